#include "core/timer_wheel.h"

#include <vector>

namespace sse {

TimerWheel::TimerWheel(uint64_t resolution_ms, uint64_t now_ms)
    : resolution_ms_(resolution_ms == 0 ? 1 : resolution_ms),
      current_tick_(now_ms / (resolution_ms == 0 ? 1 : resolution_ms)),
      next_walk_tick_(current_tick_) {}

void TimerWheel::link(TimerEntry* e) {
  TimerEntry*& head = slots_[slotOf(e->due_ms)];
  e->prev = nullptr;
  e->next = head;
  if (head != nullptr) head->prev = e;
  head = e;
  e->linked = true;
  ++size_;
}

void TimerWheel::unlink(TimerEntry* e) {
  if (e->prev != nullptr) {
    e->prev->next = e->next;
  } else {
    slots_[slotOf(e->due_ms)] = e->next;
  }
  if (e->next != nullptr) e->next->prev = e->prev;
  e->prev = e->next = nullptr;
  e->linked = false;
  --size_;
}

void TimerWheel::schedule(TimerEntry* e, uint64_t due_ms) {
  e->firing = false;
  if (e->linked) unlink(e);
  // Never in a tick already processed: it would wait a whole round.
  uint64_t earliest = (current_tick_ + 1) * resolution_ms_;
  e->due_ms = due_ms < earliest ? earliest : due_ms;
  link(e);
}

void TimerWheel::cancel(TimerEntry* e) {
  e->firing = false;
  if (e->linked) unlink(e);
}

size_t TimerWheel::advance(uint64_t now_ms, void (*fire)(TimerEntry*, void*), void* arg) {
  uint64_t target = now_ms / resolution_ms_;
  if (target < next_walk_tick_) return 0;
  // Past a whole round every slot is visited once.
  uint64_t first = next_walk_tick_;
  if (target - first >= kSlots) first = target - kSlots + 1;
  std::vector<TimerEntry*> due;
  for (uint64_t tick = first; tick <= target; ++tick) {
    for (TimerEntry* e = slots_[tick % kSlots]; e != nullptr;) {
      TimerEntry* next = e->next;
      ++visited_;
      if (e->due_ms <= now_ms) {
        unlink(e);
        e->firing = true;
        due.push_back(e);
      }
      e = next;
    }
  }
  current_tick_ = target;
  // Entries due later in the target tick stay in its slot: walk it again
  // next time unless the whole tick is past.
  next_walk_tick_ = now_ms % resolution_ms_ == resolution_ms_ - 1 ? target + 1 : target;
  // Fired after the walk: a callback that reschedules cannot land in a slot
  // still being walked. A callback may cancel or reschedule another due
  // entry (its owner must stay allocated until advance() returns): that
  // clears `firing` and the entry is skipped.
  size_t fired = 0;
  for (TimerEntry* e : due) {
    if (!e->firing) continue;
    e->firing = false;
    ++fired;
    fire(e, arg);
  }
  return fired;
}

void TimerWheel::setResolution(uint64_t resolution_ms) {
  if (resolution_ms == 0) resolution_ms = 1;
  if (resolution_ms == resolution_ms_) return;
  std::vector<TimerEntry*> all;
  for (TimerEntry*& head : slots_) {
    for (TimerEntry* e = head; e != nullptr; e = e->next) all.push_back(e);
    head = nullptr;
  }
  uint64_t now_ms = current_tick_ * resolution_ms_;
  uint64_t walk_ms = next_walk_tick_ * resolution_ms_;
  resolution_ms_ = resolution_ms;
  current_tick_ = now_ms / resolution_ms_;
  next_walk_tick_ = walk_ms / resolution_ms_;
  size_ = 0;
  for (TimerEntry* e : all) link(e);
}

}  // namespace sse
