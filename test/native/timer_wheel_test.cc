// The timing wheel alone (no libuv): scheduling, firing exactly when due,
// rounds, the cost of advance() and callbacks that change the wheel.
#include "core/timer_wheel.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace sse {
namespace {

// Collects what fired (and runs an optional action per fire).
struct Fired {
  std::vector<TimerEntry*> order;
  std::function<void(TimerEntry*)> action;
  size_t count(const TimerEntry* e) const {
    size_t n = 0;
    for (TimerEntry* f : order) n += f == e;
    return n;
  }
};

void onFire(TimerEntry* e, void* arg) {
  auto* f = static_cast<Fired*>(arg);
  f->order.push_back(e);
  if (f->action) f->action(e);
}

TEST(TimerWheel, ScheduleFiresWhenDueAndNotBefore) {
  TimerWheel w(10, 0);
  TimerEntry a, b;
  w.schedule(&a, 30);
  w.schedule(&b, 70);
  EXPECT_EQ(w.size(), 2u);
  EXPECT_TRUE(a.linked);
  Fired f;
  EXPECT_EQ(w.advance(29, onFire, &f), 0u);
  EXPECT_TRUE(f.order.empty());
  EXPECT_EQ(w.advance(30, onFire, &f), 1u);
  ASSERT_EQ(f.order.size(), 1u);
  EXPECT_EQ(f.order[0], &a);
  EXPECT_FALSE(a.linked);
  EXPECT_FALSE(a.firing);
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(w.advance(69, onFire, &f), 0u);
  EXPECT_EQ(w.advance(75, onFire, &f), 1u);
  EXPECT_EQ(f.count(&b), 1u);
  EXPECT_TRUE(w.empty());
  // Nothing left: later advances fire nothing.
  EXPECT_EQ(w.advance(10000, onFire, &f), 0u);
  EXPECT_EQ(f.order.size(), 2u);
}

TEST(TimerWheel, CancelAndRescheduleReplaceTheSchedule) {
  TimerWheel w(10, 0);
  TimerEntry a, b, c;
  w.schedule(&a, 20);
  w.schedule(&b, 20);
  w.schedule(&c, 20);
  w.cancel(&b);
  EXPECT_FALSE(b.linked);
  EXPECT_EQ(w.size(), 2u);
  w.cancel(&b);  // harmless when not scheduled
  EXPECT_EQ(w.size(), 2u);
  w.schedule(&c, 50);  // replaces, does not add
  w.schedule(&c, 60);
  EXPECT_EQ(w.size(), 2u);
  EXPECT_EQ(c.due_ms, 60u);
  Fired f;
  EXPECT_EQ(w.advance(55, onFire, &f), 1u);
  EXPECT_EQ(f.count(&a), 1u);
  EXPECT_EQ(f.count(&b), 0u);
  EXPECT_EQ(f.count(&c), 0u);
  EXPECT_EQ(w.advance(60, onFire, &f), 1u);
  EXPECT_EQ(f.count(&c), 1u);
  EXPECT_EQ(f.count(&b), 0u);
  EXPECT_TRUE(w.empty());
}

TEST(TimerWheel, ScheduleInThePastIsClampedToTheNextTick) {
  TimerWheel w(10, 100);
  TimerEntry a;
  w.schedule(&a, 5);  // long past
  EXPECT_EQ(a.due_ms, 110u);
  Fired f;
  EXPECT_EQ(w.advance(109, onFire, &f), 0u);
  EXPECT_EQ(w.advance(110, onFire, &f), 1u);
}

TEST(TimerWheel, EntriesDueExactlyAtATickBoundary) {
  TimerWheel w(10, 0);
  TimerEntry at, before, after;
  w.schedule(&before, 49);
  w.schedule(&at, 50);
  w.schedule(&after, 60);
  Fired f;
  EXPECT_EQ(w.advance(49, onFire, &f), 1u);
  EXPECT_EQ(f.count(&before), 1u);
  EXPECT_EQ(f.count(&at), 0u);
  EXPECT_EQ(w.advance(50, onFire, &f), 1u);  // the boundary itself is due
  EXPECT_EQ(f.count(&at), 1u);
  EXPECT_EQ(f.count(&after), 0u);
  EXPECT_EQ(w.advance(59, onFire, &f), 0u);
  EXPECT_EQ(w.advance(60, onFire, &f), 1u);
  EXPECT_EQ(f.count(&after), 1u);
}

// An entry due in the middle of a tick, when advance() runs in that tick but
// before the entry is due (the loop's timer is not aligned to the wheel's
// ticks), must fire at the next advance past its due time, not a whole round
// (256 ticks) later.
TEST(TimerWheel, EntryDueLaterInTheCurrentTickFiresAtTheNextAdvance) {
  TimerWheel w(10, 0);
  TimerEntry e;
  w.schedule(&e, 27);
  Fired f;
  EXPECT_EQ(w.advance(25, onFire, &f), 0u);  // tick 2, but 25 < 27
  EXPECT_EQ(w.advance(35, onFire, &f), 1u) << "due at 27, advanced to 35";
  EXPECT_EQ(f.count(&e), 1u);
  // However late, it must fire exactly once by the end of the next round.
  w.advance(10 * 300, onFire, &f);
  EXPECT_EQ(f.count(&e), 1u);
  EXPECT_TRUE(w.empty());
}

TEST(TimerWheel, EntriesMoreThanOneRoundAwayFireOnlyWhenDue) {
  TimerWheel w(10, 0);
  TimerEntry near, far, farther;
  w.schedule(&near, 30);               // tick 3, slot 3
  w.schedule(&far, 30 + 10 * 256);     // tick 259, slot 3
  w.schedule(&farther, 30 + 20 * 256); // tick 515, slot 3
  Fired f;
  EXPECT_EQ(w.advance(30, onFire, &f), 1u);
  EXPECT_EQ(f.count(&near), 1u);
  // A whole round later the slot is visited again; only `far` is due.
  EXPECT_EQ(w.advance(30 + 10 * 256 - 1, onFire, &f), 0u);
  EXPECT_EQ(w.advance(30 + 10 * 256, onFire, &f), 1u);
  EXPECT_EQ(f.count(&far), 1u);
  EXPECT_EQ(f.count(&farther), 0u);
  EXPECT_TRUE(farther.linked);
  EXPECT_EQ(w.advance(30 + 20 * 256, onFire, &f), 1u);
  EXPECT_EQ(f.count(&farther), 1u);
  EXPECT_TRUE(w.empty());
}

TEST(TimerWheel, AdvanceCostFollowsVisitedSlotsNotTotal) {
  TimerWheel w(10, 0);
  std::vector<TimerEntry> far(10000);
  // Due 300..~1000 ticks away, spread over every slot.
  for (size_t i = 0; i < far.size(); ++i) w.schedule(&far[i], 3000 + 7 * i);
  EXPECT_EQ(w.size(), 10000u);
  Fired f;
  uint64_t before = w.visited();
  EXPECT_EQ(w.advance(10, onFire, &f), 0u);  // one tick
  uint64_t one_tick = w.visited() - before;
  // About 10000/256 entries share a slot; a scan of all would be 10000.
  EXPECT_LE(one_tick, 100u);
  before = w.visited();
  EXPECT_EQ(w.advance(50, onFire, &f), 0u);  // four more ticks
  EXPECT_LE(w.visited() - before, 400u);
  EXPECT_TRUE(f.order.empty());
  EXPECT_EQ(w.size(), 10000u);

  // All due in one far slot: advancing elsewhere visits none of them.
  TimerWheel w2(10, 0);
  std::vector<TimerEntry> same(10000);
  for (TimerEntry& e : same) w2.schedule(&e, 10 * 600);  // tick 600, slot 88
  EXPECT_EQ(w2.advance(10 * 80, onFire, &f), 0u);  // ticks 1..80
  EXPECT_EQ(w2.visited(), 0u);
  // A later advance visits the slot (they are a later round) but fires none.
  EXPECT_EQ(w2.advance(10 * 90, onFire, &f), 0u);
  EXPECT_EQ(w2.visited(), 10000u);
  EXPECT_EQ(w2.advance(10 * 600, onFire, &f), 10000u);
  EXPECT_TRUE(w2.empty());
}

TEST(TimerWheel, CallbackReschedulingItselfFiresAgainOnlyWhenDue) {
  TimerWheel w(10, 0);
  TimerEntry e;
  Fired f;
  int rounds = 0;
  f.action = [&](TimerEntry* x) {
    // Into the past: clamped to the next tick, not fired again in this call.
    if (++rounds < 5) w.schedule(x, x->due_ms);
  };
  w.schedule(&e, 20);
  EXPECT_EQ(w.advance(20, onFire, &f), 1u);
  EXPECT_TRUE(e.linked);
  EXPECT_EQ(e.due_ms, 30u);
  EXPECT_EQ(w.advance(29, onFire, &f), 0u);
  EXPECT_EQ(w.advance(30, onFire, &f), 1u);
  EXPECT_EQ(w.advance(40, onFire, &f), 1u);
  EXPECT_EQ(w.advance(50, onFire, &f), 1u);
  EXPECT_EQ(w.advance(60, onFire, &f), 1u);
  EXPECT_EQ(rounds, 5);
  EXPECT_FALSE(e.linked);
  EXPECT_EQ(w.advance(1000, onFire, &f), 0u);
  EXPECT_EQ(f.count(&e), 5u);
}

TEST(TimerWheel, CallbackCancellingAnotherDueEntryStopsItFiring) {
  TimerWheel w(10, 0);
  TimerEntry a, b, c;
  w.schedule(&a, 30);
  w.schedule(&b, 35);  // same slot, due in the same advance
  w.schedule(&c, 45);  // another slot, also due
  Fired f;
  // Whichever of a/b fires first cancels the other; a also cancels c.
  f.action = [&](TimerEntry* x) {
    if (x == &a) {
      w.cancel(&b);
      w.cancel(&c);
    }
    if (x == &b) {
      w.cancel(&a);
      w.cancel(&c);
    }
  };
  EXPECT_EQ(w.advance(50, onFire, &f), 1u);
  ASSERT_EQ(f.order.size(), 1u);
  EXPECT_TRUE(f.order[0] == &a || f.order[0] == &b);
  EXPECT_EQ(f.count(&c), 0u);
  EXPECT_FALSE(a.firing);
  EXPECT_FALSE(b.firing);
  EXPECT_FALSE(c.firing);
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.advance(5000, onFire, &f), 0u);
  EXPECT_EQ(f.order.size(), 1u);
}

TEST(TimerWheel, CallbackReschedulingAnotherDueEntryMovesIt) {
  TimerWheel w(10, 0);
  TimerEntry a, b;
  w.schedule(&a, 30);
  w.schedule(&b, 40);
  Fired f;
  f.action = [&](TimerEntry* x) {
    if (x == &a) w.schedule(&b, 100);
    if (x == &b && f.count(&a) == 0) w.schedule(&a, 100);
  };
  EXPECT_EQ(w.advance(40, onFire, &f), 1u);
  ASSERT_EQ(f.order.size(), 1u);
  TimerEntry* moved = f.order[0] == &a ? &b : &a;
  EXPECT_TRUE(moved->linked);
  EXPECT_EQ(moved->due_ms, 100u);
  EXPECT_EQ(w.advance(99, onFire, &f), 0u);
  EXPECT_EQ(w.advance(100, onFire, &f), 1u);
  EXPECT_EQ(f.count(moved), 1u);
}

TEST(TimerWheel, SetResolutionKeepsDueTimes) {
  TimerWheel w(1000, 0);
  TimerEntry a, b, c;
  w.schedule(&a, 1500);
  w.schedule(&b, 2000);
  w.schedule(&c, 7250);
  w.setResolution(10);
  EXPECT_EQ(w.resolution(), 10u);
  EXPECT_EQ(w.size(), 3u);
  EXPECT_EQ(a.due_ms, 1500u);
  EXPECT_EQ(b.due_ms, 2000u);
  EXPECT_EQ(c.due_ms, 7250u);
  Fired f;
  EXPECT_EQ(w.advance(1499, onFire, &f), 0u);
  EXPECT_EQ(w.advance(1500, onFire, &f), 1u);
  EXPECT_EQ(f.count(&a), 1u);
  EXPECT_EQ(w.advance(1999, onFire, &f), 0u);
  EXPECT_EQ(w.advance(2000, onFire, &f), 1u);
  w.setResolution(500);  // and back to coarser
  EXPECT_EQ(c.due_ms, 7250u);
  EXPECT_EQ(w.advance(6999, onFire, &f), 0u);
  EXPECT_EQ(w.advance(7500, onFire, &f), 1u);
  EXPECT_EQ(f.count(&c), 1u);
  EXPECT_TRUE(w.empty());
  w.setResolution(0);  // treated as 1
  EXPECT_EQ(w.resolution(), 1u);
}

// Going coarser in the middle of a coarse tick: an entry due later in that
// tick keeps its due time too (same root cause as
// EntryDueLaterInTheCurrentTickFiresAtTheNextAdvance).
TEST(TimerWheel, SetResolutionCoarserMidTickKeepsDueTimes) {
  TimerWheel w(10, 0);
  Fired f;
  w.advance(4540, onFire, &f);
  TimerEntry e;
  w.schedule(&e, 4600);
  w.setResolution(1000);
  EXPECT_EQ(e.due_ms, 4600u);
  EXPECT_EQ(w.advance(4599, onFire, &f), 0u);
  EXPECT_EQ(w.advance(5000, onFire, &f), 1u) << "due at 4600, advanced to 5000";
  w.advance(1000 * 300, onFire, &f);
  EXPECT_EQ(f.count(&e), 1u);
}

TEST(TimerWheel, LongGapFiresEverythingDueExactlyOnce) {
  TimerWheel w(10, 0);
  std::vector<TimerEntry> es(1000);
  for (size_t i = 0; i < es.size(); ++i) w.schedule(&es[i], 10 + 10 * i);  // ticks 1..1000
  TimerEntry later;
  w.schedule(&later, 20000);  // tick 2000: not due at 10000
  Fired f;
  // 1000 ticks at once: more than a round.
  EXPECT_EQ(w.advance(10000, onFire, &f), 1000u);
  for (TimerEntry& e : es) EXPECT_EQ(f.count(&e), 1u);
  EXPECT_EQ(f.count(&later), 0u);
  EXPECT_EQ(w.size(), 1u);
  // Each slot was visited once: the cost is what was there, not the gap.
  EXPECT_LE(w.visited(), 1001u);
  EXPECT_EQ(w.advance(20000, onFire, &f), 1u);
  EXPECT_EQ(f.count(&later), 1u);
  EXPECT_EQ(f.order.size(), 1001u);
}

}  // namespace
}  // namespace sse
