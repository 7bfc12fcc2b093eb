#include "uuid_v7.h"

#include <chrono>

namespace sensorsys::server {

UuidV7Generator::UuidV7Generator() {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    _random.seed(seed);
}

std::string UuidV7Generator::next() {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    return at(ms);
}

std::string UuidV7Generator::at(std::int64_t unixMillis) {
    std::uint64_t a, b;
    {
        std::lock_guard lock(_mutex);
        a = _random();
        b = _random();
    }
    unsigned char bytes[16];
    const auto ms = static_cast<std::uint64_t>(unixMillis);
    for (int i = 0; i < 6; ++i) bytes[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
    for (int i = 0; i < 2; ++i) bytes[6 + i] = static_cast<unsigned char>(a >> (8 * i));
    for (int i = 0; i < 8; ++i) bytes[8 + i] = static_cast<unsigned char>(b >> (8 * i));
    bytes[6] = static_cast<unsigned char>(0x70 | (bytes[6] & 0x0F));  // version 7
    bytes[8] = static_cast<unsigned char>(0x80 | (bytes[8] & 0x3F));  // variant 10
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
        out.push_back(hex[bytes[i] >> 4]);
        out.push_back(hex[bytes[i] & 0xF]);
    }
    return out;
}

}  // namespace sensorsys::server
