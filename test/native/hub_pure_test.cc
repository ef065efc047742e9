// The hub with no loop at all: a fake host (a clock the test sets, a count
// of wakes) and fake members that record what the hub hands them.
#include "core/hub.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sse {
namespace {

struct FakeHost : HubHost {
  uint64_t hubNow() override { return now; }
  void hubWake() override { ++wakes; }
  bool hubTearingDown() const override { return tearing_down; }
  uint64_t now = 0;
  int wakes = 0;
  bool tearing_down = false;
};

struct Batch {
  std::string joined;
  std::vector<std::string> frames;
  const SharedBuffer* joined_buf;
  std::vector<const SharedBuffer*> frame_bufs;
  uint32_t sharers = 0;
};

struct FakeMember : HubMember {
  explicit FakeMember(bool function = false) : HubMember(function) {}
  bool hubOpen() const override { return open; }
  SendResult hubSend(BufferRef frame) override {
    if (!open) return SendResult::kClosed;
    sent.emplace_back(frame.data(), frame.size());
    return SendResult::kSuccess;
  }
  bool hubAboveHighWater() const override { return above; }
  void hubEnqueueBatch(const BufferRef& joined, const std::vector<BufferRef>& frames,
                       uint32_t sharers) override {
    Batch b;
    b.sharers = sharers;
    if (joined) b.joined.assign(joined.data(), joined.size());
    b.joined_buf = joined.get();
    for (const BufferRef& f : frames) {
      b.frames.emplace_back(f.data(), f.size());
      b.frame_bufs.push_back(f.get());
    }
    batches.push_back(std::move(b));
    if (on_batch) on_batch();
  }
  // Everything received, in order: replays and batches.
  std::string stream() const {
    std::string s;
    for (const std::string& f : sent) s += f;
    for (const Batch& b : batches) s += b.joined;
    return s;
  }
  bool open = true;
  bool above = false;
  std::vector<std::string> sent;
  std::vector<Batch> batches;
  std::function<void()> on_batch;
};

Message msgOf(std::string_view d) {
  Message m;
  m.data = d;
  m.has_data = true;
  return m;
}

class HubPure : public ::testing::Test {
 protected:
  BroadcastResult cast(std::string_view key, std::string_view d,
                       std::vector<HubMember*>* functions = nullptr) {
    BroadcastResult r;
    EXPECT_EQ(hub.broadcast(key, msgOf(d), &r, functions), FrameStatus::kOk);
    return r;
  }
  BroadcastResult castId(std::string_view key, std::string_view d, std::string_view id) {
    Message m = msgOf(d);
    m.id = id;
    m.has_id = true;
    BroadcastResult r;
    EXPECT_EQ(hub.broadcast(key, m, &r, nullptr), FrameStatus::kOk);
    return r;
  }
  Hub::Join join(std::string_view key, FakeMember* m) {
    return hub.join(key, m, nullptr, nullptr, nullptr);
  }
  Hub::Join resume(std::string_view key, FakeMember* m, std::string_view last_id,
                   size_t* replayed, bool* gap) {
    return hub.join(key, m, &last_id, replayed, gap);
  }
  std::vector<std::string> keys() {
    std::vector<std::string> k;
    hub.keys(&k);
    std::sort(k.begin(), k.end());
    return k;
  }

  FakeHost host;
  Hub hub{&host};
};

TEST_F(HubPure, JoinLeaveBookkeeping) {
  FakeMember a, b, closed;
  closed.open = false;
  EXPECT_EQ(hub.distinctMembers(), 0u);
  EXPECT_EQ(join("k1", &a), Hub::Join::kJoined);
  EXPECT_EQ(join("k2", &a), Hub::Join::kJoined);
  EXPECT_EQ(join("k1", &b), Hub::Join::kJoined);
  EXPECT_EQ(join("k1", &a), Hub::Join::kAlready);
  EXPECT_EQ(join("k1", &closed), Hub::Join::kClosed);
  EXPECT_EQ(hub.distinctMembers(), 2u);  // a counted once
  EXPECT_EQ(hub.memberCount("k1"), 2u);
  EXPECT_EQ(hub.memberCount("k2"), 1u);
  EXPECT_EQ(hub.memberCount("none"), 0u);
  EXPECT_EQ(a.hubKeys().size(), 2u);
  EXPECT_TRUE(closed.hubKeys().empty());
  EXPECT_EQ(keys(), (std::vector<std::string>{"k1", "k2"}));

  EXPECT_TRUE(hub.leave("k2", &a));
  EXPECT_FALSE(hub.leave("k2", &a));    // no longer a member
  EXPECT_FALSE(hub.leave("none", &a));  // no such key
  EXPECT_FALSE(hub.leave("k1", &closed));
  EXPECT_EQ(hub.memberCount("k2"), 0u);
  EXPECT_EQ(keys(), (std::vector<std::string>{"k1"}));
  EXPECT_EQ(hub.distinctMembers(), 2u);  // a is still in k1

  EXPECT_TRUE(hub.leave("k1", &b));
  EXPECT_EQ(hub.distinctMembers(), 1u);
  EXPECT_TRUE(b.hubKeys().empty());

  join("k3", &a);
  join("k3", &b);
  EXPECT_EQ(hub.distinctMembers(), 2u);
  hub.leaveAll(&a);
  EXPECT_TRUE(a.hubKeys().empty());
  EXPECT_EQ(hub.distinctMembers(), 1u);
  EXPECT_EQ(hub.memberCount("k1"), 0u);
  EXPECT_EQ(hub.memberCount("k3"), 1u);
  hub.leaveAll(&a);  // harmless twice
  EXPECT_EQ(hub.distinctMembers(), 1u);
  hub.leaveAll(&b);
  EXPECT_EQ(hub.distinctMembers(), 0u);
  EXPECT_TRUE(keys().empty());
  // Rejoin after leaving works.
  EXPECT_EQ(join("k1", &a), Hub::Join::kJoined);
  EXPECT_EQ(hub.memberCount("k1"), 1u);
}

TEST_F(HubPure, BroadcastsOfOneTurnBecomeOneBatch) {
  FakeMember a, b;
  join("k", &a);
  join("k", &b);
  EXPECT_EQ(cast("k", "one").members, 2u);
  cast("k", "two");
  cast("k", "three");
  EXPECT_TRUE(a.batches.empty()) << "queued before the flush";
  EXPECT_TRUE(hub.hasDue());
  EXPECT_EQ(host.wakes, 1);
  hub.sealAll();
  EXPECT_FALSE(hub.hasDue());
  for (FakeMember* m : {&a, &b}) {
    ASSERT_EQ(m->batches.size(), 1u);
    const Batch& batch = m->batches[0];
    EXPECT_EQ(batch.joined, "data: one\n\ndata: two\n\ndata: three\n\n");
    EXPECT_EQ(batch.frames,
              (std::vector<std::string>{"data: one\n\n", "data: two\n\n", "data: three\n\n"}));
  }
  // One encoding shared by both members.
  EXPECT_EQ(a.batches[0].joined_buf, b.batches[0].joined_buf);
  EXPECT_EQ(a.batches[0].frame_bufs, b.batches[0].frame_bufs);
  EXPECT_EQ(hub.stats().broadcasts, 3u);
  hub.sealAll();  // nothing more
  EXPECT_EQ(a.batches.size(), 1u);
}

TEST_F(HubPure, SingleBroadcastBatchIsTheFrameItself) {
  FakeMember a;
  join("k", &a);
  cast("k", "only");
  hub.sealAll();
  ASSERT_EQ(a.batches.size(), 1u);
  ASSERT_EQ(a.batches[0].frame_bufs.size(), 1u);
  EXPECT_EQ(a.batches[0].joined_buf, a.batches[0].frame_bufs[0]);
  EXPECT_EQ(a.batches[0].joined, "data: only\n\n");
}

TEST_F(HubPure, BroadcastToAnotherKeySealsTheFirst) {
  FakeMember a, b, both;
  join("k1", &a);
  join("k2", &b);
  join("k1", &both);
  join("k2", &both);
  cast("k1", "x");
  cast("k1", "y");
  EXPECT_TRUE(a.batches.empty());
  cast("k2", "z");  // seals k1 first
  ASSERT_EQ(a.batches.size(), 1u);
  EXPECT_EQ(a.batches[0].joined, "data: x\n\ndata: y\n\n");
  EXPECT_TRUE(b.batches.empty());
  cast("k1", "w");  // seals k2
  EXPECT_EQ(b.batches.size(), 1u);
  hub.sealAll();
  EXPECT_EQ(host.wakes, 3);
  // A member of both keys gets every broadcast in the order made.
  EXPECT_EQ(both.stream(), "data: x\n\ndata: y\n\ndata: z\n\ndata: w\n\n");
  EXPECT_EQ(a.stream(), "data: x\n\ndata: y\n\ndata: w\n\n");
  EXPECT_EQ(b.stream(), "data: z\n\n");
}

TEST_F(HubPure, SealForSealsTheMembersKeys) {
  FakeMember a, other;
  join("k", &a);
  join("k", &other);
  cast("k", "1");
  cast("k", "2");
  hub.sealFor(&a);
  ASSERT_EQ(a.batches.size(), 1u);
  EXPECT_EQ(a.batches[0].joined, "data: 1\n\ndata: 2\n\n");
  EXPECT_EQ(other.batches.size(), 1u);  // the key's batch goes to every member
  hub.sealAll();  // already sealed: not delivered twice
  EXPECT_EQ(a.batches.size(), 1u);
  EXPECT_EQ(other.batches.size(), 1u);
  // A member in no key with a pending batch: nothing.
  FakeMember lone;
  cast("k", "3");
  hub.sealFor(&lone);
  EXPECT_EQ(a.batches.size(), 1u);
  hub.sealAll();
  EXPECT_EQ(a.batches.size(), 2u);
  // While the host tears down, sealFor does nothing.
  cast("k", "4");
  host.tearing_down = true;
  hub.sealFor(&a);
  EXPECT_EQ(a.batches.size(), 2u);
}

TEST_F(HubPure, WakeOncePerDueBatch) {
  FakeMember a;
  cast("k", "nobody");  // no key, no members: nothing due
  EXPECT_EQ(host.wakes, 0);
  EXPECT_FALSE(hub.hasDue());
  join("k", &a);
  for (int i = 0; i < 10; ++i) cast("k", "x");
  EXPECT_EQ(host.wakes, 1);
  hub.sealAll();
  cast("k", "y");
  EXPECT_EQ(host.wakes, 2);
  hub.sealAll();
  EXPECT_EQ(a.batches.size(), 2u);
  EXPECT_EQ(a.batches[0].frames.size(), 10u);
}

TEST_F(HubPure, FunctionMembersAreListedAndNotReplayed) {
  FakeMember f(true), g(true), m;
  EXPECT_TRUE(f.isFunction());
  EXPECT_FALSE(m.isFunction());
  hub.configure("k", 10, 0);
  cast("k", "before");  // id 1
  size_t replayed = 99;
  bool gap = true;
  EXPECT_EQ(resume("k", &f, "0", &replayed, &gap), Hub::Join::kJoined);
  EXPECT_TRUE(f.sent.empty()) << "a function member is never replayed to";
  EXPECT_EQ(replayed, 0u);
  EXPECT_FALSE(gap);
  EXPECT_EQ(hub.stats().replay_gaps, 0u);
  join("k", &g);
  join("k", &m);
  join("other", &m);
  std::vector<HubMember*> functions;
  BroadcastResult r = cast("k", "hello", &functions);
  EXPECT_EQ(r.members, 3u);  // function members included
  ASSERT_EQ(functions.size(), 2u);
  EXPECT_NE(std::find(functions.begin(), functions.end(), &f), functions.end());
  EXPECT_NE(std::find(functions.begin(), functions.end(), &g), functions.end());
  functions.clear();
  cast("other", "x", &functions);
  EXPECT_TRUE(functions.empty());
  hub.sealAll();
  EXPECT_EQ(m.stream(), "id: 2\ndata: hello\n\ndata: x\n\n");
  EXPECT_EQ(hub.memberCount("k"), 3u);
  hub.leaveAll(&f);
  functions.clear();
  cast("k", "after", &functions);
  EXPECT_EQ(functions, (std::vector<HubMember*>{&g}));
}

// HubMember: "Function members take no frames: the embedder hands them the
// message". The hub should not hand them batches either.
TEST_F(HubPure, FunctionMembersGetNoFrames) {
  FakeMember f(true), m;
  join("k", &f);
  join("k", &m);
  cast("k", "a");
  cast("k", "b");
  hub.sealAll();
  EXPECT_EQ(m.batches.size(), 1u);
  EXPECT_TRUE(f.sent.empty());
  EXPECT_TRUE(f.batches.empty()) << "a function member was handed a batch of "
                                 << (f.batches.empty() ? 0 : f.batches[0].frames.size())
                                 << " frames";
}

TEST_F(HubPure, IdsAreAssignedWhenTheRingIsOn) {
  FakeMember a, b;
  join("plain", &a);
  cast("plain", "no id");  // ring off: no id line
  hub.configure("k", 10, 0);
  join("k", &b);
  cast("k", "a");
  cast("k", "b");
  castId("k", "c", "mine");  // an id given is kept, the counter unchanged
  cast("k", "d");
  hub.sealAll();
  EXPECT_EQ(a.stream(), "data: no id\n\n");
  EXPECT_EQ(b.stream(),
            "id: 1\ndata: a\n\nid: 2\ndata: b\n\nid: mine\ndata: c\n\nid: 3\ndata: d\n\n");
  // Ids count on a key with a ring even with no member.
  hub.configure("empty", 10, 0);
  cast("empty", "x");
  cast("empty", "y");
  FakeMember late;
  size_t replayed = 0;
  bool gap = true;
  resume("empty", &late, "1", &replayed, &gap);
  EXPECT_FALSE(gap);
  EXPECT_EQ(replayed, 1u);
  EXPECT_EQ(late.stream(), "id: 2\ndata: y\n\n");
}

TEST_F(HubPure, ReplayAfterLastIdAndGapFrame) {
  hub.configure("k", 3, 0);
  for (const char* d : {"a", "b", "c", "d"}) cast("k", d);  // ids 1..4; 1 evicted
  FakeMember m1;
  size_t replayed = 0;
  bool gap = true;
  EXPECT_EQ(resume("k", &m1, "2", &replayed, &gap), Hub::Join::kJoined);
  EXPECT_FALSE(gap);
  EXPECT_EQ(replayed, 2u);
  EXPECT_EQ(m1.sent, (std::vector<std::string>{"id: 3\ndata: c\n\n", "id: 4\ndata: d\n\n"}));
  EXPECT_EQ(hub.stats().replayed_events, 2u);

  FakeMember newest;  // up to date: nothing, no gap
  EXPECT_EQ(resume("k", &newest, "4", &replayed, &gap), Hub::Join::kJoined);
  EXPECT_FALSE(gap);
  EXPECT_EQ(replayed, 0u);
  EXPECT_TRUE(newest.sent.empty());

  FakeMember evicted;
  EXPECT_EQ(resume("k", &evicted, "1", &replayed, &gap), Hub::Join::kJoined);
  EXPECT_TRUE(gap);
  EXPECT_EQ(evicted.sent,
            (std::vector<std::string>{"event: sse-gap\ndata: {\"lastEventId\":\"1\"}\n\n"}));
  EXPECT_EQ(hub.stats().replay_gaps, 1u);

  FakeMember odd;  // an unknown id needing JSON escapes
  resume("k", &odd, "x\"y\\z", &replayed, &gap);
  EXPECT_TRUE(gap);
  ASSERT_EQ(odd.sent.size(), 1u);
  EXPECT_EQ(odd.sent[0], "event: sse-gap\ndata: {\"lastEventId\":\"x\\\"y\\\\z\"}\n\n");
  EXPECT_EQ(hub.stats().replay_gaps, 2u);
  EXPECT_EQ(hub.stats().replayed_events, 2u);
  EXPECT_EQ(hub.memberCount("k"), 4u);

  // Resumed members are members: they get what follows, once.
  cast("k", "e");
  hub.sealAll();
  EXPECT_EQ(m1.stream(), "id: 3\ndata: c\n\nid: 4\ndata: d\n\nid: 5\ndata: e\n\n");
  EXPECT_EQ(newest.stream(), "id: 5\ndata: e\n\n");
}

TEST_F(HubPure, ReplayAgeLimitFollowsTheHostClock) {
  hub.configure("k", 100, 1000);
  host.now = 0;
  cast("k", "old");  // id 1 at t=0
  host.now = 500;
  cast("k", "new");  // id 2 at t=500
  host.now = 900;
  FakeMember early;
  size_t replayed = 0;
  bool gap = true;
  resume("k", &early, "1", &replayed, &gap);
  EXPECT_FALSE(gap);
  EXPECT_EQ(early.sent, (std::vector<std::string>{"id: 2\ndata: new\n\n"}));

  host.now = 1200;  // "old" expired: what followed id 0 can't be told
  FakeMember before_all;
  resume("k", &before_all, "0", &replayed, &gap);
  EXPECT_TRUE(gap);
  FakeMember mid;  // id 1 is still findable? it expired with its entry
  resume("k", &mid, "1", &replayed, &gap);
  EXPECT_TRUE(gap) << "id 1 fell out of the ring with age";

  host.now = 1600;  // "new" expired too
  FakeMember after;
  resume("k", &after, "1", &replayed, &gap);
  EXPECT_TRUE(gap);
  ASSERT_EQ(after.sent.size(), 1u);
  EXPECT_EQ(after.sent[0].rfind("event: sse-gap\n", 0), 0u);
  // The newest id is still known: a client that saw it missed nothing.
  FakeMember current;
  resume("k", &current, "2", &replayed, &gap);
  EXPECT_FALSE(gap);
  EXPECT_TRUE(current.sent.empty());
}

TEST_F(HubPure, JoinWhileABatchIsPendingNeitherLosesNorDoubles) {
  hub.configure("k", 10, 0);
  FakeMember first;
  join("k", &first);
  cast("k", "x");  // id 1
  hub.sealAll();
  cast("k", "y");  // id 2, pending
  FakeMember second;
  size_t replayed = 0;
  bool gap = true;
  resume("k", &second, "1", &replayed, &gap);
  EXPECT_EQ(replayed, 1u);
  // The pending batch went to the members of its time before the join.
  EXPECT_EQ(first.batches.size(), 2u);
  hub.sealAll();
  cast("k", "z");
  hub.sealAll();
  EXPECT_EQ(second.stream(), "id: 2\ndata: y\n\nid: 3\ndata: z\n\n");
  EXPECT_EQ(first.stream(), "id: 1\ndata: x\n\nid: 2\ndata: y\n\nid: 3\ndata: z\n\n");
}

TEST_F(HubPure, MemberClosedByItsOwnBatchWhileSealing) {
  for (int closer = 0; closer < 3; ++closer) {
    SCOPED_TRACE(closer);
    FakeHost h;
    Hub hub2(&h);
    FakeMember ms[3];
    for (FakeMember& m : ms) hub2.join("k", &m, nullptr, nullptr, nullptr);
    hub2.join("other", &ms[closer], nullptr, nullptr, nullptr);
    ms[closer].on_batch = [&, closer] {
      ms[closer].open = false;
      hub2.leaveAll(&ms[closer]);
    };
    BroadcastResult r;
    hub2.broadcast("k", msgOf("a"), &r, nullptr);
    hub2.broadcast("k", msgOf("b"), &r, nullptr);
    hub2.sealAll();
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(ms[i].batches.size(), 1u) << "member " << i;
      EXPECT_EQ(ms[i].batches[0].joined, "data: a\n\ndata: b\n\n");
    }
    EXPECT_EQ(hub2.memberCount("k"), 2u);
    EXPECT_EQ(hub2.memberCount("other"), 0u);
    EXPECT_EQ(hub2.distinctMembers(), 2u);
    EXPECT_TRUE(ms[closer].hubKeys().empty());
    // Later broadcasts reach the others only.
    hub2.broadcast("k", msgOf("c"), &r, nullptr);
    EXPECT_EQ(r.members, 2u);
    hub2.sealAll();
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(ms[i].batches.size(), i == closer ? 1u : 2u) << "member " << i;
    }
  }
}

TEST_F(HubPure, MemberClosedByItsBatchDuringSealForAndLeave) {
  FakeMember a, b;
  join("k", &a);
  join("k2", &a);
  join("k", &b);
  a.on_batch = [&] {
    a.open = false;
    hub.leaveAll(&a);
  };
  cast("k", "x");
  hub.sealFor(&a);  // a's own batch closes it mid-iteration of its keys
  EXPECT_TRUE(a.hubKeys().empty());
  EXPECT_EQ(b.batches.size(), 1u);
  EXPECT_EQ(hub.memberCount("k"), 1u);
  EXPECT_EQ(hub.distinctMembers(), 1u);
  hub.sealAll();
  EXPECT_EQ(b.batches.size(), 1u);

  FakeMember c;
  join("k", &c);
  c.on_batch = [&] {
    c.open = false;
    hub.leaveAll(&c);
  };
  cast("k", "y");
  EXPECT_TRUE(hub.leave("k", &c));  // the batch sealed by leaving closes it
  EXPECT_EQ(c.batches.size(), 1u);
  EXPECT_EQ(hub.memberCount("k"), 1u);
  EXPECT_EQ(hub.distinctMembers(), 1u);
  hub.sealAll();
  EXPECT_EQ(b.stream(), "data: x\n\ndata: y\n\n");
}

TEST_F(HubPure, ABadMessageSendsAndRecordsNothing) {
  FakeMember a;
  hub.configure("k", 10, 0);
  join("k", &a);
  Message bad = msgOf("x");
  bad.event = "a\nb";
  bad.has_event = true;
  BroadcastResult r;
  EXPECT_EQ(hub.broadcast("k", bad, &r, nullptr), FrameStatus::kInvalidEvent);
  EXPECT_EQ(r.members, 0u);
  EXPECT_FALSE(hub.hasDue());
  EXPECT_EQ(hub.stats().broadcasts, 0u);
  cast("k", "ok");
  hub.sealAll();
  EXPECT_EQ(a.stream(), "id: 1\ndata: ok\n\n");  // the bad one used no id
}

}  // namespace
}  // namespace sse
