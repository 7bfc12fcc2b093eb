#include "live_hub.hpp"

#include "api_service.hpp"
#include "websocket_frame.hpp"

#include <sensorsys/common/json_text.hpp>

#include <Poco/JSON/Parser.h>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace sensorsys::server {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kMaxEvents = 256;
constexpr int kTickMillis = 250;
// A closed client gets this long to read what is still queued (the close frame last).
constexpr auto kClosingGrace = std::chrono::seconds(10);
// The kernel's share of a client's backlog; beyond it readings wait in the client's queue,
// which limits.live_queue bounds (so a stalled client costs a bounded amount of memory).
constexpr int kSendBufferBytes = 128 * 1024;

std::string webSocketHead(const std::string& accept) {
    return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: " +
           accept + "\r\n\r\n";
}

// No length and no chunking: the stream ends when the connection closes.
constexpr const char* kEventStreamHead =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    "X-Accel-Buffering: no\r\nConnection: close\r\n\r\n";

// A reading message as a WebSocket text frame or a Server-Sent Event.
std::string readingMessage(bool webSocket, const std::string& readingJson,
                           const std::string& cursor) {
    std::string message = "{\"type\": \"reading\", \"cursor\": \"" + cursor + "\", \"reading\": ";
    message += readingJson;
    message += '}';
    return webSocket ? websocket::encodeFrame(websocket::Opcode::Text, message)
                     : "id: " + cursor + "\ndata: " + message + "\n\n";
}

}  // namespace

struct LiveHub::Client {
    Poco::Net::StreamSocket socket;
    int fd = -1;
    bool webSocket = false;
    bool authPending = false;
    bool live = false;                        // receives the feed
    bool closing = false;                     // a close was queued: nothing more is sent
    bool writable = true;                     // EPOLLOUT not armed
    std::unordered_set<std::string> devices;  // empty: all
    std::optional<FeedCursor> since;
    // The client's own cursor, kept only while it is ahead of the hub's: its first readings
    // (latest or replayed) came from the database and may not have reached the feed yet. Once
    // the hub's position covers it, the client shares the hub's position (see fanOut).
    bool ahead = false;
    FeedCursor cursor;
    std::string in;
    std::string message;  // a fragmented message so far
    std::deque<std::string> out;
    std::size_t outOffset = 0;
    std::size_t queued = 0;      // reading messages in out
    Clock::time_point deadline;  // auth (pending) or closing deadline
    Clock::time_point nextPing;
};

LiveHub::LiveHub(const LiveSettings& settings, ApiService& service, Poco::Logger& logger)
    : _settings(settings), _service(service), _logger(logger) {
    _epoll = ::epoll_create1(EPOLL_CLOEXEC);
    _wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (_epoll < 0 || _wake < 0) throw std::system_error(errno, std::generic_category(), "epoll");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = _wake;
    ::epoll_ctl(_epoll, EPOLL_CTL_ADD, _wake, &ev);
}

LiveHub::~LiveHub() {
    stop();
    ::close(_epoll);
    ::close(_wake);
}

void LiveHub::start() {
    _thread = std::thread([this] { run(); });
}

void LiveHub::stop() {
    _stop = true;
    wake();
    if (_thread.joinable()) _thread.join();
}

void LiveHub::wake() {
    const std::uint64_t one = 1;
    if (::write(_wake, &one, sizeof one) < 0) {
        // saturated: a wake-up is pending
    }
}

void LiveHub::adopt(const Poco::Net::StreamSocket& socket, std::string buffered,
                    LiveSubscription subscription) {
    ++_count;
    _service.metrics().liveClientOpened();
    {
        std::lock_guard lock(_mutex);
        _inbox.emplace_back(Adopted{socket, std::move(buffered), std::move(subscription)});
    }
    wake();
}

void LiveHub::publish(const std::vector<FeedRow>& rows) {
    {
        std::lock_guard lock(_mutex);
        _inbox.emplace_back(std::make_shared<const std::vector<FeedRow>>(rows));
    }
    wake();
}

void LiveHub::settled(const FeedCursor& cursor) {
    {
        std::lock_guard lock(_mutex);
        _inbox.emplace_back(cursor);
    }
    wake();
}

void LiveHub::run() {
    epoll_event events[kMaxEvents];
    while (!_stop) {
        const int n = ::epoll_wait(_epoll, events, kMaxEvents, kTickMillis);
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == _wake) {
                std::uint64_t count = 0;
                if (::read(_wake, &count, sizeof count) < 0) {
                    // nothing pending
                }
                continue;
            }
            const auto it = _clients.find(fd);
            if (it == _clients.end()) continue;
            if (events[i].events & EPOLLOUT) flush(*it->second);
            if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                onReadable(*it->second);
        }
        drainInbox();
        tick();
        for (const int fd : _doomed) remove(fd);
        _doomed.clear();
    }
    drainInbox();
    closeAll();
}

void LiveHub::drainInbox() {
    std::deque<Event> events;
    {
        std::lock_guard lock(_mutex);
        events.swap(_inbox);
    }
    for (auto& event : events) {
        if (auto* adopted = std::get_if<Adopted>(&event)) {
            attach(std::move(*adopted));
        } else if (auto* rows = std::get_if<std::shared_ptr<const std::vector<FeedRow>>>(&event)) {
            fanOut(**rows);
        } else {
            onSettled(std::get<FeedCursor>(event));
        }
    }
}

void LiveHub::attach(Adopted adopted) {
    auto client = std::make_unique<Client>();
    Client& c = *client;
    c.socket = adopted.socket;
    c.fd = c.socket.impl()->sockfd();
    c.webSocket = adopted.subscription.webSocket;
    c.authPending = adopted.subscription.authPending;
    c.devices.insert(adopted.subscription.devices.begin(), adopted.subscription.devices.end());
    c.since = adopted.subscription.since;
    c.in = std::move(adopted.buffered);
    c.deadline = Clock::now() + _settings.authTimeout;
    c.nextPing = Clock::now() + _settings.ping;
    try {
        c.socket.setBlocking(false);
        c.socket.setSendBufferSize(kSendBufferBytes);
    } catch (const Poco::Exception&) {
        // gone already: the first send finds out
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = c.fd;
    ::epoll_ctl(_epoll, EPOLL_CTL_ADD, c.fd, &ev);
    _clients.emplace(c.fd, std::move(client));
    enqueue(c, c.webSocket ? webSocketHead(adopted.subscription.acceptKey) : kEventStreamHead,
            true);
    if (!c.authPending) begin(c);
    if (c.webSocket && !c.in.empty()) readFrames(c);
}

void LiveHub::begin(Client& client) {
    client.authPending = false;
    client.live = true;
    client.cursor = _position;
    try {
        if (client.since) {
            replay(client, *client.since);
        } else {
            sendLatest(client);
        }
    } catch (const std::exception& e) {
        _logger.warning("live client: the database failed: %s", std::string(e.what()));
        close(client, websocket::kTryAgainLater);
    }
    subscribe(client);
    if (!(client.cursor == _position)) {
        client.ahead = true;
        _ahead.insert(client.fd);
    }
}

void LiveHub::subscribe(Client& client) {
    if (client.devices.empty()) {
        _allDevices.insert(client.fd);
        return;
    }
    for (const auto& device : client.devices) _byDevice[device].insert(client.fd);
}

void LiveHub::unsubscribe(const Client& client) {
    _allDevices.erase(client.fd);
    _ahead.erase(client.fd);
    for (const auto& device : client.devices) {
        const auto it = _byDevice.find(device);
        if (it == _byDevice.end()) continue;
        it->second.erase(client.fd);
        if (it->second.empty()) _byDevice.erase(it);
    }
}

void LiveHub::sendLatest(Client& client) {
    auto send = [&](const std::string& deviceId, std::int64_t id, const std::string& json) {
        if (!wants(client, deviceId)) return;
        client.cursor.add(id);  // committed but maybe not yet handed on: not sent again
        sendReading(client, json);
    };
    // From memory while the latest cache is on: a dashboard that connects costs no query (the
    // database's answer lists every device through every partition, bench/README.md).
    if (const auto cached = _service.latestCache().snapshot()) {
        for (const auto& row : *cached) send(row.deviceId, row.id, *row.json);
        return;
    }
    auto rows = _service.readings().latestPerDevice();
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    for (const auto& row : rows) send(row.deviceId, row.id, row.json());
}

void LiveHub::replay(Client& client, const FeedCursor& since) {
    client.cursor = since;
    const std::vector<std::string> devices(client.devices.begin(), client.devices.end());
    const auto rows = _service.readings().after(since, devices, _settings.replay + 1);
    const auto sent =
        std::min<std::size_t>(rows.size(), static_cast<std::size_t>(_settings.replay));
    for (std::size_t i = 0; i < sent && !client.closing; ++i) {
        client.cursor.add(rows[i].id);
        sendReading(client, rows[i].json());
    }
    if (rows.size() <= sent || client.closing) return;
    // Too many: the client fetches the rest with GET /readings and continues from here.
    FeedCursor resume = _position;
    for (std::size_t i = 0; i < sent; ++i) resume.add(rows[i].id);
    client.cursor = resume;
    const std::string message = "{\"type\": \"gap\", \"cursor\": \"" + resume.text() + "\"}";
    enqueue(client, client.webSocket ? websocket::encodeFrame(websocket::Opcode::Text, message)
                                     : "id: " + resume.text() + "\ndata: " + message + "\n\n");
}

// Per row, only the clients that want its device are visited (and the few still ahead of the
// hub, which record every id in their own cursor): with 1000 dashboards open on quiet devices,
// visiting every client for every row tripled the server's CPU per ingested reading.
void LiveHub::fanOut(const std::vector<FeedRow>& rows) {
    for (const auto& row : rows) {
        const std::int64_t id = row.reading.id;
        _position.add(id);
        std::string json, position;
        const auto send = [&](Client& c, const std::string& cursor) {
            if (json.empty()) json = row.reading.json();
            sendReading(c, json, cursor);
        };
        for (const int fd : _ahead) {
            Client& c = *_clients.at(fd);
            if (c.closing || c.cursor.delivered(id)) continue;
            c.cursor.add(id);
            if (wants(c, row.reading.deviceId)) send(c, c.cursor.text());
        }
        // Every client sharing the hub's position gets the same bytes: built once per row.
        std::string frame, event;
        const auto sendShared = [&](const std::unordered_set<int>& fds) {
            for (const int fd : fds) {
                Client& c = *_clients.at(fd);
                if (c.ahead || c.closing) continue;
                if (position.empty()) position = _position.text();
                if (json.empty()) json = row.reading.json();
                std::string& bytes = c.webSocket ? frame : event;
                if (bytes.empty()) bytes = readingMessage(c.webSocket, json, position);
                enqueue(c, bytes);
            }
        };
        sendShared(_allDevices);
        if (const auto it = _byDevice.find(row.reading.deviceId); it != _byDevice.end())
            sendShared(it->second);
    }
}

void LiveHub::onSettled(const FeedCursor& cursor) {
    _position.settle(cursor.settled());
    for (auto it = _ahead.begin(); it != _ahead.end();) {
        Client& c = *_clients.at(*it);
        c.cursor.settle(cursor.settled());
        // Every id the client has seen is settled in the hub's position: it shares it now.
        if (c.cursor.highest() <= _position.settled()) {
            c.ahead = false;
            it = _ahead.erase(it);
        } else {
            ++it;
        }
    }
}

bool LiveHub::wants(const Client& client, const std::string& deviceId) const {
    return client.devices.empty() || client.devices.count(deviceId) > 0;
}

void LiveHub::sendReading(Client& client, const std::string& readingJson) {
    sendReading(client, readingJson, client.cursor.text());
}

void LiveHub::sendReading(Client& client, const std::string& readingJson,
                          const std::string& cursor) {
    enqueue(client, readingMessage(client.webSocket, readingJson, cursor));
}

void LiveHub::enqueue(Client& client, std::string bytes, bool control) {
    if (client.closing) return;
    if (!control) {
        if (client.out.size() >= _settings.queue) {
            _service.metrics().liveClientDroppedSlow();
            close(client, websocket::kTryAgainLater);
            return;
        }
        _service.metrics().addLiveMessages(1);
    }
    client.out.push_back(std::move(bytes));
    if (client.writable) flush(client);
}

void LiveHub::flush(Client& client) {
    while (!client.out.empty()) {
        const std::string& front = client.out.front();
        const ssize_t n = ::send(client.fd, front.data() + client.outOffset,
                                 front.size() - client.outOffset, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (client.writable) {
                epoll_event ev{};
                ev.events = EPOLLIN | EPOLLRDHUP | EPOLLOUT;
                ev.data.fd = client.fd;
                ::epoll_ctl(_epoll, EPOLL_CTL_MOD, client.fd, &ev);
                client.writable = false;
            }
            return;
        }
        if (n < 0) {
            _doomed.push_back(client.fd);
            client.out.clear();
            client.closing = true;
            client.live = false;
            return;
        }
        client.outOffset += static_cast<std::size_t>(n);
        if (client.outOffset == front.size()) {
            client.out.pop_front();
            client.outOffset = 0;
        }
    }
    if (!client.writable) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.fd = client.fd;
        ::epoll_ctl(_epoll, EPOLL_CTL_MOD, client.fd, &ev);
        client.writable = true;
    }
    // Everything (the close frame last) is out: half-close, then read until the client closes,
    // so unread input does not turn the close into a reset.
    if (client.closing) ::shutdown(client.fd, SHUT_WR);
}

void LiveHub::close(Client& client, std::uint16_t code) {
    if (client.closing) return;
    client.closing = true;
    client.live = false;
    client.deadline = Clock::now() + kClosingGrace;
    // Queued readings are dropped; a partly written frame is finished first.
    while (client.out.size() > (client.outOffset > 0 ? 1u : 0u)) client.out.pop_back();
    if (client.webSocket) client.out.push_back(websocket::encodeClose(code));
    if (client.writable) flush(client);
}

void LiveHub::remove(int fd) {
    const auto it = _clients.find(fd);
    if (it == _clients.end()) return;
    ::epoll_ctl(_epoll, EPOLL_CTL_DEL, fd, nullptr);
    unsubscribe(*it->second);  // also when no longer live: close() and failed sends clear it
    _clients.erase(it);
    --_count;
    _service.metrics().liveClientClosed();
}

void LiveHub::closeAll() {
    for (auto& [fd, client] : _clients) close(*client, websocket::kGoingAway);
    std::vector<int> fds;
    for (const auto& [fd, client] : _clients) fds.push_back(fd);
    for (const int fd : fds) remove(fd);
}

void LiveHub::tick() {
    const auto now = Clock::now();
    for (auto& [fd, client] : _clients) {
        Client& c = *client;
        if (c.closing) {
            if (now >= c.deadline) _doomed.push_back(fd);
        } else if (c.authPending) {
            if (now >= c.deadline) close(c, websocket::kPolicyViolation);
        } else if (now >= c.nextPing) {
            c.nextPing = now + _settings.ping;
            enqueue(c,
                    c.webSocket ? websocket::encodeFrame(websocket::Opcode::Ping, "")
                                : std::string(": ping\n\n"),
                    true);
        }
    }
}

void LiveHub::onReadable(Client& client) {
    char buffer[16384];
    for (;;) {
        const ssize_t n = ::recv(client.fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            _doomed.push_back(client.fd);  // the client closed (or broke) the connection
            return;
        }
        if (n < 0) return;
        if (client.closing || !client.webSocket) continue;  // input is not looked at
        client.in.append(buffer, static_cast<std::size_t>(n));
        readFrames(client);
    }
}

void LiveHub::readFrames(Client& client) {
    using websocket::ParseResult;
    while (!client.closing) {
        websocket::Frame frame;
        std::size_t used = 0;
        const auto result =
            websocket::parseClientFrame(client.in, _settings.maxClientMessage, frame, used);
        if (result == ParseResult::Incomplete) return;
        if (result != ParseResult::Complete) {
            close(client, result == ParseResult::TooBig ? websocket::kMessageTooBig
                                                        : websocket::kProtocolError);
            return;
        }
        client.in.erase(0, used);
        switch (frame.opcode) {
            case websocket::Opcode::Ping:
                enqueue(client, websocket::encodeFrame(websocket::Opcode::Pong, frame.payload),
                        true);
                break;
            case websocket::Opcode::Pong:
                break;
            case websocket::Opcode::Close:
                close(client, 1000);
                return;
            default:
                client.message += frame.payload;
                if (client.message.size() > _settings.maxClientMessage) {
                    close(client, websocket::kMessageTooBig);
                    return;
                }
                if (frame.fin) {
                    onMessage(client, client.message);
                    client.message.clear();
                }
        }
    }
}

void LiveHub::onMessage(Client& client, const std::string& text) {
    if (!client.authPending) return;  // nothing else is expected from a client
    std::string token;
    try {
        const auto object = Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
        if (object && object->optValue<std::string>("type", "") == "auth")
            token = object->optValue<std::string>("token", "");
    } catch (const std::exception&) {
        // not JSON: refused below
    }
    bool allowed = false;
    try {
        allowed = !token.empty() && _service.mayReadLive(token);
    } catch (const std::exception& e) {
        _logger.warning("live client: the token cannot be checked: %s", std::string(e.what()));
        close(client, websocket::kTryAgainLater);
        return;
    }
    if (!allowed) {
        close(client, websocket::kPolicyViolation);
        return;
    }
    begin(client);
}

}  // namespace sensorsys::server
