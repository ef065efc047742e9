// A hashed timing wheel for the connections' heartbeats and timeouts. Pure:
// no libuv, the caller passes the clock. Each entry is intrusive (owned by
// the connection it times), so scheduling allocates nothing.
//
// Time is cut into ticks of `resolution_ms`; an entry due at time t sits in
// slot (t / resolution) % kSlots. advance(now) visits only the slots whose
// ticks passed since the last call, so its cost follows what is due (plus
// entries of later rounds sharing a visited slot), not how many entries
// exist: no per-tick scan of every connection.
#ifndef SSE_CORE_TIMER_WHEEL_H_
#define SSE_CORE_TIMER_WHEEL_H_

#include <cstddef>
#include <cstdint>

namespace sse {

// Embedded in whatever is timed; linked while scheduled.
struct TimerEntry {
  TimerEntry* prev = nullptr;
  TimerEntry* next = nullptr;
  uint64_t due_ms = 0;
  bool linked = false;
  bool firing = false;  // collected by advance(), not yet fired
  void* owner = nullptr;  // whatever the entry times, for the fire callback
};

class TimerWheel {
 public:
  static constexpr size_t kSlots = 256;

  explicit TimerWheel(uint64_t resolution_ms = 1000, uint64_t now_ms = 0);
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // (Re)schedules `e` to fire at due_ms (clamped to the next tick when
  // already past). Replaces an earlier schedule of the same entry.
  void schedule(TimerEntry* e, uint64_t due_ms);
  // Unschedules `e`; harmless when it is not scheduled.
  void cancel(TimerEntry* e);

  // Unlinks every entry due at or before now_ms and calls fire(e, arg) for
  // each, in slot order. fire may schedule or cancel any entry (including
  // e). Returns how many fired.
  size_t advance(uint64_t now_ms, void (*fire)(TimerEntry* e, void* arg), void* arg);

  // Changes the tick; every scheduled entry keeps its due time.
  void setResolution(uint64_t resolution_ms);
  uint64_t resolution() const { return resolution_ms_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Entries looked at by advance() so far (fired or not): the wheel's cost.
  uint64_t visited() const { return visited_; }

 private:
  size_t slotOf(uint64_t due_ms) const {
    return static_cast<size_t>((due_ms / resolution_ms_) % kSlots);
  }
  void link(TimerEntry* e);
  void unlink(TimerEntry* e);

  TimerEntry* slots_[kSlots] = {};
  uint64_t resolution_ms_;
  uint64_t current_tick_;    // the tick of the last advance() (schedule() clamps past it)
  uint64_t next_walk_tick_;  // the first tick the next advance() walks: a tick
                             // only partly past is walked again
  size_t size_ = 0;
  uint64_t visited_ = 0;
};

}  // namespace sse

#endif  // SSE_CORE_TIMER_WHEEL_H_
