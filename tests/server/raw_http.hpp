// Raw HTTP/1.1 over a socket, for what an HTTP client library would smooth over (announced
// lengths without bodies, hundreds of connections in one thread).
#pragma once

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/NumberParser.h>
#include <Poco/String.h>

#include <string>

namespace sensorsys::server::testing {

struct RawReply {
    int status = 0;
    std::string head;
    std::string body;
    bool complete = false;
};

inline Poco::Net::StreamSocket rawConnect(int port) {
    Poco::Net::StreamSocket s(
        Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
    s.setReceiveTimeout(Poco::Timespan(30, 0));
    s.setNoDelay(true);
    return s;
}

inline void rawSend(Poco::Net::StreamSocket& s, const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
        int n = s.sendBytes(data.data() + sent, static_cast<int>(data.size() - sent));
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
    }
}

// Reads one response with a Content-Length body (or until the peer closes).
inline RawReply rawReceive(Poco::Net::StreamSocket& s) {
    RawReply r;
    std::string data;
    char buf[8192];
    std::size_t headEnd = std::string::npos;
    while ((headEnd = data.find("\r\n\r\n")) == std::string::npos) {
        int n = s.receiveBytes(buf, sizeof buf);
        if (n <= 0) return r;
        data.append(buf, static_cast<std::size_t>(n));
    }
    r.head = data.substr(0, headEnd);
    if (r.head.size() > 12) r.status = Poco::NumberParser::parse(r.head.substr(9, 3));
    std::size_t length = 0;
    const std::string lower = Poco::toLower(r.head);
    const auto pos = lower.find("content-length:");
    if (pos != std::string::npos) {
        length = Poco::NumberParser::parseUnsigned(
            Poco::trim(lower.substr(pos + 15, lower.find("\r\n", pos) - pos - 15)));
    }
    r.body = data.substr(headEnd + 4);
    while (r.body.size() < length) {
        int n = s.receiveBytes(buf, sizeof buf);
        if (n <= 0) return r;
        r.body.append(buf, static_cast<std::size_t>(n));
    }
    r.complete = true;
    return r;
}

}  // namespace sensorsys::server::testing
