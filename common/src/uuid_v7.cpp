#include "sensorsys/common/uuid_v7.hpp"

#include <cstdio>

namespace sensorsys {

std::string formatUuid(const std::uint8_t (&b)[16]) {
    char text[37];
    std::snprintf(text, sizeof text,
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                  b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                  b[14], b[15]);
    return text;
}

void markVersion7(std::uint8_t (&b)[16]) {
    b[6] = static_cast<std::uint8_t>(0x70 | (b[6] & 0x0F));
    b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3F));  // RFC 4122 variant
}

UuidV7Generator::UuidV7Generator() {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    _random.seed(seed);
}

UuidV7Generator::UuidV7Generator(std::chrono::milliseconds max_hold_back) : UuidV7Generator() {
    _maxHoldBack = static_cast<std::uint64_t>(max_hold_back.count());
}

std::string UuidV7Generator::next(std::chrono::system_clock::time_point now) {
    std::uint64_t millis = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
    std::uint64_t random;
    std::uint16_t counter;
    {
        std::lock_guard lock(_mutex);
        // Within one millisecond (or if the clock stepped back) count up from the last id, so
        // ids stay strictly increasing in the order they were made.
        if (millis < _lastMillis && _lastMillis - millis > _maxHoldBack) {
            _lastMillis = 0;  // a large step back: follow the clock
        }
        if (millis <= _lastMillis) {
            millis = _lastMillis;
            if (++_counter > 0x0FFF) {
                ++millis;
                _counter = 0;
            }
        } else {
            _counter = static_cast<std::uint16_t>(_random() & 0x01FF);  // room to count up
        }
        _lastMillis = millis;
        counter = _counter;
        random = _random();
    }
    std::uint8_t b[16];
    for (int i = 0; i < 6; ++i) b[i] = static_cast<std::uint8_t>(millis >> (40 - 8 * i));
    b[6] = static_cast<std::uint8_t>((counter >> 8) & 0x0F);
    b[7] = static_cast<std::uint8_t>(counter & 0xFF);
    for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<std::uint8_t>(random >> (56 - 8 * i));
    markVersion7(b);
    return formatUuid(b);
}

}  // namespace sensorsys
