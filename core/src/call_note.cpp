#include "call_note.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>

namespace sensorsys::agent {

CallNote::CallNote(const std::filesystem::path& file)
    : _fd(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (_fd < 0) return;
    std::array<char, kSlotSize> slot{};
    for (off_t offset = 0;; offset += kSlotSize) {
        const ssize_t got = ::pread(_fd, slot.data(), slot.size(), offset);
        if (got <= 0) break;
        const auto used = static_cast<std::size_t>(got);
        const auto end = std::find(slot.begin(), slot.begin() + used, '\0');
        if (end != slot.begin()) _interrupted.emplace_back(slot.begin(), end);
    }
    if (::ftruncate(_fd, 0) != 0) {
        ::close(_fd);
        _fd = -1;
    }
}

CallNote::~CallNote() {
    if (_fd >= 0) ::close(_fd);
}

void CallNote::write(std::size_t slot, std::string_view text) const noexcept {
    if (_fd < 0) return;
    std::array<char, kSlotSize> bytes{};
    std::copy_n(text.begin(), std::min(text.size(), kSlotSize - 1), bytes.begin());
    // A failed write only loses the name of a crash's culprit; the read goes on regardless.
    [[maybe_unused]] const ssize_t written =
        ::pwrite(_fd, bytes.data(), bytes.size(), static_cast<off_t>(slot * kSlotSize));
}

CallNote::Call::Call(const CallNote* note, std::size_t slot, std::string_view what) noexcept
    : _note(note), _slot(slot) {
    if (_note != nullptr) _note->write(_slot, what);
}

CallNote::Call::~Call() {
    if (_note != nullptr) _note->write(_slot, {});
}

}  // namespace sensorsys::agent
