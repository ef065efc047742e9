// A key's replay ring: the last frames broadcast on it (by count and age),
// so a client reconnecting with Last-Event-ID gets what it missed. Pure: no
// libuv; the caller passes the clock.
#ifndef SSE_CORE_REPLAY_RING_H_
#define SSE_CORE_REPLAY_RING_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "core/shared_buffer.h"

namespace sse {

class ReplayRing {
 public:
  enum class Since : uint8_t {
    kFound,  // last_id is the newest id or in the ring: `out` has what followed
    kGap,    // last_id is unknown or fell out: what followed cannot be told
  };

  // Keeps at most max_events frames (0 turns the ring off and empties it),
  // none older than max_age_ms (0: no age limit).
  void configure(size_t max_events, uint64_t max_age_ms);
  bool enabled() const { return max_events_ != 0; }

  // Records one broadcast frame under `id` (evicting the oldest past the
  // limits). A no-op while the ring is off.
  void push(std::string_view id, BufferRef frame, uint64_t now_ms);
  // Drops frames older than max_age_ms.
  void expire(uint64_t now_ms);

  // Appends a share of every frame recorded after `last_id`, oldest first.
  Since since(std::string_view last_id, uint64_t now_ms, std::vector<BufferRef>* out);

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string id;
    BufferRef frame;
    uint64_t at_ms;
  };
  std::deque<Entry> entries_;
  std::string newest_id_;  // kept when the entry itself was evicted
  bool has_newest_ = false;
  size_t max_events_ = 0;
  uint64_t max_age_ms_ = 0;
};

}  // namespace sse

#endif  // SSE_CORE_REPLAY_RING_H_
