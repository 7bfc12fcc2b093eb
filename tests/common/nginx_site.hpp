// The shipped nginx site (etc/nginx/sensorsys.conf) running for a test: the configuration is
// written by tests/support/nginx_site.py (shared with the benchmarks), and nginx runs as one
// process on a private loopback port with everything in a temporary folder. Not thread-safe;
// one object per test.
#pragma once

#include "test_support.hpp"

#include <memory>
#include <string>
#include <vector>

namespace sensorsys::test {

struct NginxSiteOptions {
    std::vector<int> upstreamPorts;  // the upstream's server lines, in order
    bool instances = false;          // the upstream of etc/nginx/sensorsys-instances.conf
    bool tls = false;                // HTTPS with a throwaway certificate (else plain HTTP)
};

class NginxSite {
  public:
    // Whether /usr/sbin/nginx, python3 (and for TLS openssl and curl) are installed.
    static bool available(bool tls);

    // Writes the configuration and starts nginx; throws when it does not listen within 10 s.
    NginxSite(const std::string& sourceDir, const NginxSiteOptions& options);
    ~NginxSite();  // stops nginx
    NginxSite(const NginxSite&) = delete;
    NginxSite& operator=(const NginxSite&) = delete;

    int port() const { return _port; }
    // The folder nginx runs in (removed with this object); the caller may put files there.
    std::string folder() const { return _dir.path().string(); }
    bool running() { return _nginx->running(); }
    std::string errorLog() const;

  private:
    TempDir _dir;
    int _port = freePort();
    std::unique_ptr<Background> _nginx;
};

}  // namespace sensorsys::test
