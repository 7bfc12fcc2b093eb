// The live clients of GET /live (WebSocket) and GET /readings/stream (Server-Sent Events).
// After its handshake was checked by a request thread, a connection is handed to the hub, which
// serves every live client from one thread of its own with epoll: live connections take no
// thread of the API's pool. Readings arrive from the change feed (publish) and are queued per
// client and written as the client reads; a client whose queue overflows is closed (1013), so
// ingest and the other clients never wait for a slow one.
//
// Each client has its own FeedCursor: it is sent with every message, and a client resuming with
// it (since=, Last-Event-ID) gets exactly the readings it has not had (replayed from the
// database, then the live tail). Thread-safe: adopt/publish/settled from any thread.
#pragma once

#include "change_feed.hpp"
#include "feed_cursor.hpp"

#include <Poco/Logger.h>
#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

namespace sensorsys::server {

class ApiService;

// What a checked live request asks for (built by the route's handler).
struct LiveSubscription {
    bool webSocket = false;
    std::string acceptKey;  // WebSocket: Sec-WebSocket-Accept
    std::vector<std::string> devices;
    std::optional<FeedCursor> since;
    bool authPending = false;  // a WebSocket without credentials: the first message has them
};

struct LiveSettings {
    std::size_t maxClients = 1000;
    std::size_t queue = 1000;  // messages waiting per client
    int replay = 10000;        // readings replayed for since= before a gap
    std::chrono::milliseconds ping{20000};
    std::chrono::milliseconds authTimeout{5000};
    std::size_t maxClientMessage = 4096;
};

class LiveHub {
  public:
    LiveHub(const LiveSettings& settings, ApiService& service, Poco::Logger& logger);
    ~LiveHub();
    LiveHub(const LiveHub&) = delete;
    LiveHub& operator=(const LiveHub&) = delete;

    void start();
    // Closes every live client (WebSocket: 1001) and ends the thread.
    void stop();

    // True when limits.live_clients are connected (the handshake answers 503).
    bool full() const { return _count.load() >= _settings.maxClients; }
    // The change feed has its first position: before it, a client could miss a reading
    // committed between its start and the feed's (the handshake answers 503).
    bool ready() const { return _ready.load(); }
    void setReady() { _ready = true; }
    // Takes over a connection whose handshake was accepted; buffered: bytes already received
    // after the request head.
    void adopt(const Poco::Net::StreamSocket& socket, std::string buffered,
               LiveSubscription subscription);
    // New readings of the feed, each once (in id order within a call; returns at once).
    void publish(const std::vector<FeedRow>& rows);
    void settled(const FeedCursor& cursor);

  private:
    struct Client;
    using ClientPtr = std::unique_ptr<Client>;
    struct Adopted {
        Poco::Net::StreamSocket socket;
        std::string buffered;
        LiveSubscription subscription;
    };
    using Event = std::variant<Adopted, std::shared_ptr<const std::vector<FeedRow>>, FeedCursor>;

    void run();
    void wake();
    void drainInbox();
    void attach(Adopted adopted);
    void begin(Client& client);
    void sendLatest(Client& client);
    void replay(Client& client, const FeedCursor& since);
    void fanOut(const std::vector<FeedRow>& rows);
    void onSettled(const FeedCursor& cursor);
    void onReadable(Client& client);
    void readFrames(Client& client);
    void onMessage(Client& client, const std::string& text);
    void tick();
    bool wants(const Client& client, const std::string& deviceId) const;
    void sendReading(Client& client, const std::string& readingJson);
    void sendReading(Client& client, const std::string& readingJson, const std::string& cursor);
    void subscribe(Client& client);
    void unsubscribe(const Client& client);
    void enqueue(Client& client, std::string bytes, bool control = false);
    void flush(Client& client);
    void close(Client& client, std::uint16_t code);
    void remove(int fd);
    void closeAll();

    const LiveSettings _settings;
    ApiService& _service;
    Poco::Logger& _logger;
    int _epoll = -1;
    int _wake = -1;
    std::atomic<std::size_t> _count{0};
    std::atomic<bool> _stop{false};
    std::atomic<bool> _ready{false};

    std::mutex _mutex;  // guards _inbox
    std::deque<Event> _inbox;

    // Owned by the hub's thread.
    std::unordered_map<int, ClientPtr> _clients;
    // The live clients by what they subscribed to (file descriptors, keys of _clients).
    std::unordered_set<int> _allDevices;
    std::unordered_map<std::string, std::unordered_set<int>> _byDevice;
    std::unordered_set<int> _ahead;  // clients with a cursor of their own (Client::ahead)
    std::vector<int> _doomed;        // closed during a pass, removed after it
    FeedCursor _position;            // what the feed has handed on
    std::thread _thread;
};

}  // namespace sensorsys::server
