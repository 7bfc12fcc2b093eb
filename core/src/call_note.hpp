// A crash-safe note of the plugin calls in progress, so that the start after a crash can name
// the plugin that killed the agent. The note is a small file with one fixed-size slot per
// sensor instance; marking a call is one pwrite() on a descriptor opened up front, and the
// kernel keeps what was written however the process dies, so no signal handler is needed.
// Thread-safety: Call objects on different slots may live on any threads at once; the
// constructor and interrupted() belong to one thread.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace sensorsys::agent {

class CallNote {
  public:
    static constexpr std::size_t kSlotSize = 512;

    // Reads what the previous process left in `file`, then empties it for this one. A note
    // that cannot be opened records nothing (the agent works on without it).
    explicit CallNote(const std::filesystem::path& file);
    ~CallNote();
    CallNote(const CallNote&) = delete;
    CallNote& operator=(const CallNote&) = delete;

    // The calls the previous process had in progress when it died, as written by Call.
    const std::vector<std::string>& interrupted() const { return _interrupted; }

    // Marks slot `slot` as calling `what` for its lifetime. `what` must outlive the Call.
    class Call {
      public:
        Call(const CallNote* note, std::size_t slot, std::string_view what) noexcept;
        ~Call();
        Call(const Call&) = delete;
        Call& operator=(const Call&) = delete;

      private:
        const CallNote* _note;
        std::size_t _slot;
    };

  private:
    void write(std::size_t slot, std::string_view text) const noexcept;

    int _fd = -1;
    std::vector<std::string> _interrupted;
};

}  // namespace sensorsys::agent
