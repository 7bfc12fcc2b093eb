#include "feed_cursor.hpp"

#include <algorithm>
#include <charconv>

namespace sensorsys::server {

namespace {

bool parseNumber(std::string_view text, std::int64_t& value) {
    if (text.empty() || text.size() > 18) return false;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size() && value >= 0;
}

}  // namespace

std::optional<FeedCursor> FeedCursor::parse(std::string_view text) {
    const auto tilde = text.find('~');
    FeedCursor cursor;
    if (!parseNumber(text.substr(0, tilde), cursor._settled)) return std::nullopt;
    if (tilde == std::string_view::npos) return cursor;
    std::string_view rest = text.substr(tilde + 1);
    std::int64_t previous = cursor._settled + 1;  // the next range starts at or above it
    while (true) {
        const auto comma = rest.find(',');
        const std::string_view item = rest.substr(0, comma);
        const auto dash = item.find('-');
        std::int64_t first = 0;
        std::int64_t last = 0;
        if (!parseNumber(item.substr(0, dash), first)) return std::nullopt;
        last = first;
        if (dash != std::string_view::npos && !parseNumber(item.substr(dash + 1), last))
            return std::nullopt;
        if (first < previous || last < first) return std::nullopt;
        cursor._above.emplace_back(first, last);
        previous = last + 2;  // adjacent ranges are written as one
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
    }
    return cursor;
}

std::string FeedCursor::text() const {
    std::string out = std::to_string(_settled);
    char separator = '~';
    for (const auto& [first, last] : _above) {
        out += separator;
        separator = ',';
        out += std::to_string(first);
        if (last != first) out += '-' + std::to_string(last);
    }
    return out;
}

std::string FeedCursor::multirange() const {
    std::string out = "{";
    for (const auto& [first, last] : _above) {
        if (out.size() > 1) out += ',';
        out += '[' + std::to_string(first) + ',' + std::to_string(last) + ']';
    }
    return out + '}';
}

std::int64_t FeedCursor::highest() const {
    return _above.empty() ? _settled : _above.back().second;
}

bool FeedCursor::delivered(std::int64_t id) const {
    if (id <= _settled) return true;
    const auto it = std::upper_bound(_above.begin(), _above.end(), std::make_pair(id, INT64_MAX));
    return it != _above.begin() && std::prev(it)->second >= id;
}

void FeedCursor::add(std::int64_t id) {
    if (delivered(id)) return;
    auto it = std::upper_bound(_above.begin(), _above.end(), std::make_pair(id, INT64_MAX));
    const bool joinsPrevious = it != _above.begin() && std::prev(it)->second + 1 == id;
    const bool joinsNext = it != _above.end() && it->first == id + 1;
    if (joinsPrevious && joinsNext) {
        std::prev(it)->second = it->second;
        _above.erase(it);
    } else if (joinsPrevious) {
        std::prev(it)->second = id;
    } else if (joinsNext) {
        it->first = id;
    } else {
        _above.insert(it, {id, id});
    }
    if (!_above.empty() && _above.front().first == _settled + 1) {
        _settled = _above.front().second;
        _above.erase(_above.begin());
    }
}

void FeedCursor::settle(std::int64_t upTo) {
    if (upTo <= _settled) return;
    _settled = upTo;
    while (!_above.empty() && _above.front().second <= _settled) _above.erase(_above.begin());
    if (!_above.empty() && _above.front().first <= _settled + 1) {
        _settled = _above.front().second;
        _above.erase(_above.begin());
    }
}

}  // namespace sensorsys::server
