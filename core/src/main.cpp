// sensorsys-agent entry point.
#include <iostream>

#include <Poco/Util/OptionException.h>

#include "agent_application.hpp"

int main(int argc, char** argv) {
    try {
        sensorsys::agent::AgentApplication app;
        return app.run(argc, argv);
    } catch (const Poco::Util::OptionException& e) {
        std::cerr << "sensorsys-agent: " << e.displayText() << " (see --help)\n";
        return Poco::Util::Application::EXIT_USAGE;
    } catch (const Poco::Exception& e) {
        std::cerr << "sensorsys-agent: " << e.displayText() << "\n";
        return Poco::Util::Application::EXIT_SOFTWARE;
    } catch (const std::exception& e) {
        std::cerr << "sensorsys-agent: " << e.what() << "\n";
        return Poco::Util::Application::EXIT_SOFTWARE;
    }
}
