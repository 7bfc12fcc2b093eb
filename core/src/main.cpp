// sensorsys-agent entry point.
#include <iostream>

#include <Poco/Util/OptionException.h>

#include "agent_application.hpp"

int main(int argc, char** argv) {
    // Block the termination signals before any thread exists, so every thread inherits the
    // mask and SIGTERM reaches the agent's sigwait (ServerApplication::waitForTerminationRequest)
    // instead of killing the process through a pool thread that left it unblocked.
    sensorsys::agent::AgentApplication::blockTerminationSignals();
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
