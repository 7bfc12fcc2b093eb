#include "metric_path.hpp"

namespace sensorsys::server {

namespace {

bool isKeyCharacter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

std::optional<std::string> metricPathProblem(std::string_view text) {
    if (text.empty()) return "empty";
    if (text.size() > kMetricPathMaxLength)
        return "at most " + std::to_string(kMetricPathMaxLength) + " characters";
    std::size_t depth = 1;
    char previous = '.';
    for (const char c : text) {
        if (c == '.') {
            if (previous == '.') return "an empty key (a leading, trailing or doubled '.')";
            ++depth;
        } else if (!isKeyCharacter(c)) {
            return "keys of a-z, 0-9 and '_' joined by '.'";
        }
        previous = c;
    }
    if (previous == '.') return "an empty key (a leading, trailing or doubled '.')";
    if (depth > kMetricPathMaxDepth)
        return "at most " + std::to_string(kMetricPathMaxDepth) + " levels";
    return std::nullopt;
}

}  // namespace sensorsys::server
