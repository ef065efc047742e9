// The hub on real sockets: membership, broadcast of one shared frame, ids,
// replay on join, members leaving every key when they close.
#include "core/hub.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <thread>

#include "core/io/connection.h"
#include "io_fixture.h"

namespace sse {
namespace {

using testing_io::IoTest;
using testing_io::Pair;

const char kHead[] = "HTTP/1.1 200 OK\r\n\r\n";

ConnectionOptions quiet() {
  ConnectionOptions o;
  o.heartbeat_ms = 0;
  return o;
}

Message msgOf(std::string_view d) {
  Message m;
  m.data = d;
  m.has_data = true;
  return m;
}

class HubTest : public IoTest {
 protected:
  Hub& hub() { return ctx_->hub(); }
  BroadcastResult send(std::string_view key, std::string_view d) {
    BroadcastResult r;
    EXPECT_EQ(hub().broadcast(key, msgOf(d), &r, nullptr), FrameStatus::kOk);
    return r;
  }
};

TEST_F(HubTest, BroadcastReachesEveryMemberOfTheKeyOnly) {
  Pair* a = connectPair();
  Pair* b = connectPair();
  Pair* c = connectPair();
  Connection* ca = adopt(a, quiet(), kHead, nullptr);
  Connection* cb = adopt(b, quiet(), kHead, nullptr);
  Connection* cc = adopt(c, quiet(), kHead, nullptr);
  EXPECT_EQ(hub().join("k", ca, nullptr, nullptr, nullptr), Hub::Join::kJoined);
  EXPECT_EQ(hub().join("k", cb, nullptr, nullptr, nullptr), Hub::Join::kJoined);
  EXPECT_EQ(hub().join("k", cb, nullptr, nullptr, nullptr), Hub::Join::kAlready);
  EXPECT_EQ(hub().join("other", cc, nullptr, nullptr, nullptr), Hub::Join::kJoined);
  EXPECT_EQ(hub().memberCount("k"), 2u);
  BroadcastResult r = send("k", "hello");
  EXPECT_EQ(r.members, 2u);
  std::string want = std::string(kHead) + "data: hello\n\n";
  ASSERT_TRUE(readUntil(a, want.size()));
  ASSERT_TRUE(readUntil(b, want.size()));
  EXPECT_EQ(a->got, want);
  EXPECT_EQ(b->got, want);
  EXPECT_TRUE(readUntil(c, sizeof(kHead) - 1));
  EXPECT_EQ(c->got, kHead);
  EXPECT_EQ(send("nobody", "x").members, 0u);
  EXPECT_EQ(hub().stats().broadcasts, 2u);
  EXPECT_EQ(ctx_->stats().events_sent, 2u);
}

TEST_F(HubTest, AClosingMemberLeavesEveryKey) {
  Pair* a = connectPair();
  Connection* ca = adopt(a, quiet(), kHead, nullptr);
  hub().join("k1", ca, nullptr, nullptr, nullptr);
  hub().join("k2", ca, nullptr, nullptr, nullptr);
  std::vector<std::string> keys;
  hub().keys(&keys);
  EXPECT_EQ(keys.size(), 2u);
  closeClient(a);
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 1; }));
  EXPECT_EQ(hub().memberCount("k1"), 0u);
  EXPECT_EQ(hub().memberCount("k2"), 0u);
  keys.clear();
  hub().keys(&keys);
  EXPECT_TRUE(keys.empty());
  EXPECT_EQ(send("k1", "x").members, 0u);
}

TEST_F(HubTest, LeaveRemovesOneKey) {
  Pair* a = connectPair();
  Connection* ca = adopt(a, quiet(), kHead, nullptr);
  hub().join("k1", ca, nullptr, nullptr, nullptr);
  hub().join("k2", ca, nullptr, nullptr, nullptr);
  EXPECT_TRUE(hub().leave("k1", ca));
  EXPECT_FALSE(hub().leave("k1", ca));
  EXPECT_EQ(hub().memberCount("k1"), 0u);
  EXPECT_EQ(hub().memberCount("k2"), 1u);
}

// Issue 11 #2: a broadcast far bigger than max_buffered in one turn is no
// reason to close anyone: every member is tried first, and all get it.
TEST_F(HubTest, ABroadcastAboveMaxBufferedReachesEveryMember) {
  ConnectionOptions tight = quiet();
  tight.max_buffered = 8;
  tight.high_water_mark = 8;
  std::vector<Pair*> pairs;
  std::vector<Connection*> conns;
  for (int i = 0; i < 6; ++i) {
    pairs.push_back(connectPair());
    conns.push_back(adopt(pairs.back(), i % 2 ? tight : quiet(), "", nullptr));
    hub().join("k", conns.back(), nullptr, nullptr, nullptr);
  }
  BroadcastResult r = send("k", "a frame longer than eight bytes");
  EXPECT_EQ(r.members, 6u);
  hub().sealAll();
  EXPECT_EQ(hub().memberCount("k"), 6u);
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(readUntil(pairs[i], 39));
    EXPECT_EQ(pairs[i]->got, "data: a frame longer than eight bytes\n\n");
  }
  EXPECT_EQ(ctx_->stats().slow_consumer_closes, 0u);
}

// Members that stop reading are closed by the time rule and leave the key;
// the others get every event.
TEST_F(HubTest, StuckMembersLeaveByTheTimeRuleAndTheOthersGetEverything) {
  ConnectionOptions o = quiet();
  o.high_water_mark = 1024;
  o.slow_consumer_ms = 100;
  std::vector<Pair*> pairs;
  for (int i = 0; i < 6; ++i) {
    pairs.push_back(connectPair(i % 2 ? 4096 : 0, i % 2 ? 4096 : 0));
    hub().join("k", adopt(pairs.back(), o, "", nullptr), nullptr, nullptr, nullptr);
  }
  std::string want;
  std::string payload(1000, 'x');
  for (int i = 0; i < 400; ++i) {
    send("k", payload);
    want += "data: " + payload + "\n\n";
    if (i % 20 == 19) {
      uv_run(&loop_, UV_RUN_NOWAIT);
      for (int j = 0; j < 6; j += 2) drainClient(pairs[j]);
    }
  }
  ASSERT_TRUE(runUntil([&] {
    for (int j = 0; j < 6; j += 2) drainClient(pairs[j]);
    return hub().memberCount("k") == 3;
  }));
  EXPECT_EQ(ctx_->stats().slow_consumer_closes, 3u);
  for (int i = 0; i < 6; i += 2) {
    ASSERT_TRUE(readUntil(pairs[i], want.size()));
    EXPECT_TRUE(pairs[i]->got == want);
  }
}

TEST_F(HubTest, IdsAreAssignedPerKeyWhenTheRingIsOn) {
  Pair* a = connectPair();
  Connection* ca = adopt(a, quiet(), "", nullptr);
  hub().configure("r", 10, 0);
  hub().join("r", ca, nullptr, nullptr, nullptr);
  send("r", "one");
  Message m = msgOf("two");
  m.id = "custom";
  m.has_id = true;
  BroadcastResult res;
  hub().broadcast("r", m, &res, nullptr);
  send("r", "three");
  std::string want = "id: 1\ndata: one\n\nid: custom\ndata: two\n\nid: 2\ndata: three\n\n";
  ASSERT_TRUE(readUntil(a, want.size()));
  EXPECT_EQ(a->got, want);
}

TEST_F(HubTest, JoinWithLastIdReplaysThenGoesLive) {
  hub().configure("r", 100, 0);
  for (int i = 0; i < 5; ++i) send("r", "e" + std::to_string(i + 1));
  Pair* a = connectPair();
  Connection* ca = adopt(a, quiet(), "", nullptr);
  std::string_view last = "3";
  size_t replayed = 0;
  bool gap = true;
  EXPECT_EQ(hub().join("r", ca, &last, &replayed, &gap), Hub::Join::kJoined);
  EXPECT_EQ(replayed, 2u);
  EXPECT_FALSE(gap);
  send("r", "live");
  std::string want = "id: 4\ndata: e4\n\nid: 5\ndata: e5\n\nid: 6\ndata: live\n\n";
  ASSERT_TRUE(readUntil(a, want.size()));
  EXPECT_EQ(a->got, want);
  EXPECT_EQ(hub().stats().replayed_events, 2u);
}

TEST_F(HubTest, AnUnknownLastIdGetsTheGapEvent) {
  hub().configure("r", 2, 0);
  for (int i = 0; i < 5; ++i) send("r", "x");
  Pair* a = connectPair();
  Connection* ca = adopt(a, quiet(), "", nullptr);
  std::string_view last = "1\"\\";
  bool gap = false;
  hub().join("r", ca, &last, nullptr, &gap);
  EXPECT_TRUE(gap);
  std::string want = "event: sse-gap\ndata: {\"lastEventId\":\"1\\\"\\\\\"}\n\n";
  ASSERT_TRUE(readUntil(a, want.size()));
  EXPECT_EQ(a->got, want);
  EXPECT_EQ(hub().stats().replay_gaps, 1u);
}

TEST_F(HubTest, ABadFieldSendsNothingAndRecordsNothing) {
  Pair* a = connectPair();
  Connection* ca = adopt(a, quiet(), "", nullptr);
  hub().configure("r", 10, 0);
  hub().join("r", ca, nullptr, nullptr, nullptr);
  Message m = msgOf("x");
  m.event = "bad\nname";
  m.has_event = true;
  BroadcastResult r;
  EXPECT_EQ(hub().broadcast("r", m, &r, nullptr), FrameStatus::kInvalidEvent);
  EXPECT_EQ(r.members, 0u);
  send("r", "ok");
  std::string want = "id: 1\ndata: ok\n\n";
  ASSERT_TRUE(readUntil(a, want.size()));
  EXPECT_EQ(a->got, want);
}

TEST_F(HubTest, ChurnLeavesNoMember) {
  for (int i = 0; i < 500; ++i) {
    Pair* p = connectPair();
    Connection* c = adopt(p, quiet(), "", nullptr);
    hub().join("k", c, nullptr, nullptr, nullptr);
    hub().join("k" + std::to_string(i % 7), c, nullptr, nullptr, nullptr);
    send("k", "x");
    if (i % 2) closeClient(p); else c->close(i % 4 == 0);
    ASSERT_TRUE(runUntil([&] { return rec_.closes == i + 1; }));
    delete p;
    pairs_.pop_back();
  }
  std::vector<std::string> keys;
  hub().keys(&keys);
  EXPECT_TRUE(keys.empty());
  EXPECT_EQ(ctx_->stats().connections_open, 0u);
}

// The broadcasts of one turn reach each member as one buffer (one iovec),
// and the member's own sends keep their place among them.
TEST_F(HubTest, OneTurnsBroadcastsLeaveAsOneBufferInOrderWithDirectSends) {
  Pair* a = connectPair();
  Pair* b = connectPair();
  Connection* ca = adopt(a, quiet(), "", nullptr);
  Connection* cb = adopt(b, quiet(), "", nullptr);
  hub().join("k", ca, nullptr, nullptr, nullptr);
  hub().join("k", cb, nullptr, nullptr, nullptr);
  for (int i = 0; i < 100; ++i) send("k", std::to_string(i));
  ca->send(buffer("data: direct\n\n"));  // seals the batch first
  for (int i = 100; i < 200; ++i) send("k", std::to_string(i));
  uint64_t writes_before = ctx_->stats().try_writes;
  std::string all, with_direct;
  for (int i = 0; i < 200; ++i) {
    std::string f = "data: " + std::to_string(i) + "\n\n";
    all += f;
    with_direct += f;
    if (i == 99) with_direct += "data: direct\n\n";
  }
  ASSERT_TRUE(readUntil(a, with_direct.size()));
  ASSERT_TRUE(readUntil(b, all.size()));
  EXPECT_EQ(a->got, with_direct);
  EXPECT_EQ(b->got, all);
  // One writev per connection for the turn.
  EXPECT_EQ(ctx_->stats().try_writes - writes_before, 2u);
  EXPECT_EQ(ctx_->stats().events_sent, 401u);
}

// A member is charged a broadcast batch's share, not a copy: queued on four
// members, a batch of 360 bytes costs each 90, under a cap of 100, so an
// external sink that took nothing is not judged slow; alone in its key the
// same batch is over the cap and (kDrop) it is stalled.
TEST_F(HubTest, ABatchIsChargedItsShare) {
  ConnectionOptions drop = quiet();
  drop.policy = SlowConsumerPolicy::kDrop;
  drop.max_buffered = 100;
  drop.high_water_mark = 50;
  drop.slow_consumer_ms = 0;
  auto external = [&]() {
    Connection* c = Connection::createExternal(ctx_, drop, "", nullptr);
    c->attach();
    return c;
  };
  std::vector<Connection*> shared;
  for (int i = 0; i < 4; ++i) {
    shared.push_back(external());
    hub().join("four", shared.back(), nullptr, nullptr, nullptr);
  }
  Connection* alone = external();
  hub().join("one", alone, nullptr, nullptr, nullptr);
  for (const char* key : {"four", "one"}) send(key, "first");
  uv_run(&loop_, UV_RUN_NOWAIT);  // handed, never acknowledged
  for (int i = 0; i < 20; ++i) {
    send("four", "0123456789");  // 18 bytes each
    send("one", "0123456789");
  }
  uv_run(&loop_, UV_RUN_NOWAIT);  // sealed as one batch each, then judged
  for (Connection* c : shared) EXPECT_NE(c->send(buffer("data: more\n\n")), SendResult::kDropped);
  EXPECT_EQ(alone->send(buffer("data: more\n\n")), SendResult::kDropped);
  EXPECT_EQ(ctx_->stats().drops, 1u);
  for (Connection* c : shared) c->close(false);
  alone->close(false);
}

// A member that closes gracefully right after a broadcast still gets it;
// one that joins after a broadcast (same turn) does not.
TEST_F(HubTest, BatchesFollowMembershipAtTheTimeOfTheBroadcast) {
  Pair* a = connectPair();
  Pair* b = connectPair();
  Connection* ca = adopt(a, quiet(), "", nullptr);
  Connection* cb = adopt(b, quiet(), "", nullptr);
  hub().join("k", ca, nullptr, nullptr, nullptr);
  send("k", "before");
  hub().join("k", cb, nullptr, nullptr, nullptr);
  send("k", "after");
  ca->close(true);
  std::string want_a = "data: before\n\ndata: after\n\n";  // both, then the FIN
  std::string want_b = "data: after\n\n";
  ASSERT_TRUE(readToEof(a));
  EXPECT_EQ(a->got, want_a);
  ASSERT_TRUE(readUntil(b, want_b.size()));
  EXPECT_EQ(b->got, want_b);
}

// A member of two keys gets broadcasts to both in the order they were made.
TEST_F(HubTest, BroadcastsToSeveralKeysKeepTheirOrder) {
  Pair* a = connectPair();
  Connection* ca = adopt(a, quiet(), "", nullptr);
  hub().join("x", ca, nullptr, nullptr, nullptr);
  hub().join("y", ca, nullptr, nullptr, nullptr);
  std::string want;
  for (int i = 0; i < 30; ++i) {
    const char* key = (i / 3) % 2 ? "y" : "x";  // runs of three per key
    send(key, std::to_string(i));
    want += "data: " + std::to_string(i) + "\n\n";
  }
  ASSERT_TRUE(readUntil(a, want.size()));
  EXPECT_EQ(a->got, want);
}

// A publisher on its own thread and loop (a Worker, in Node): its
// broadcasts reach this loop's members, every one, in its order; its
// context then goes away without leaving anything behind.
TEST_F(HubTest, BroadcastsPublishedOnAnotherThreadArriveInOrder) {
  Pair* a = connectPair();
  Connection* ca = adopt(a, quiet(), "", nullptr);
  hub().join("k", ca, nullptr, nullptr, nullptr);
  constexpr int kCount = 1000;
  std::thread publisher([] {
    uv_loop_t loop;
    uv_loop_init(&loop);
    LoopContext* ctx = LoopContext::create(&loop, nullptr);
    for (int i = 0; i < kCount; ++i) {
      std::string d = std::to_string(i);
      ctx->publish("k", msgOf(d));
    }
    ctx->destroy(nullptr, nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop), 0);
  });
  std::string want;
  for (int i = 0; i < kCount; ++i) want += "data: " + std::to_string(i) + "\n\n";
  bool ok = readUntil(a, want.size());
  publisher.join();
  ASSERT_TRUE(ok);
  EXPECT_EQ(a->got, want);
  // This loop's own publish reaches no one else now.
  EXPECT_EQ(ctx_->publish("k", msgOf("x")), 0u);
}

}  // namespace
}  // namespace sse
