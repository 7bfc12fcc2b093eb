#include "nginx_site.hpp"

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <signal.h>

#include <filesystem>
#include <stdexcept>

namespace sensorsys::test {

namespace {

bool accepts(int port) {
    try {
        Poco::Net::StreamSocket socket;
        socket.connect(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)),
                       Poco::Timespan(1, 0));
        return true;
    } catch (const Poco::Exception&) {
        return false;
    }
}

}  // namespace

bool NginxSite::available(bool tls) {
    namespace fs = std::filesystem;
    const bool base = fs::exists("/usr/sbin/nginx") && fs::exists("/usr/bin/python3");
    return base && (!tls || (fs::exists("/usr/bin/openssl") && fs::exists("/usr/bin/curl")));
}

NginxSite::NginxSite(const std::string& sourceDir, const NginxSiteOptions& options) {
    std::vector<std::string> argv{"/usr/bin/python3", sourceDir + "/tests/support/nginx_site.py",
                                  _dir.path().string(), std::to_string(_port)};
    for (const int port : options.upstreamPorts) argv.push_back(std::to_string(port));
    if (options.instances) argv.push_back("--instances");
    if (options.tls) argv.push_back("--tls");
    const auto written = run(argv);
    if (written.exit_code != 0) throw std::runtime_error("nginx_site.py: " + written.err);
    _nginx = std::make_unique<Background>(
        std::vector<std::string>{"/usr/sbin/nginx", "-p", _dir.path().string(), "-c",
                                 (_dir / "nginx.conf").string()},
        _dir / "nginx");
    if (!eventually([&] { return accepts(_port) || !_nginx->running(); },
                    std::chrono::seconds(10)) ||
        !_nginx->running()) {
        throw std::runtime_error("nginx did not start: " + _nginx->err() + errorLog());
    }
}

NginxSite::~NginxSite() {
    _nginx->stop(SIGTERM, std::chrono::seconds(5));
}

std::string NginxSite::errorLog() const {
    return readFile(_dir / "error.log");
}

}  // namespace sensorsys::test
