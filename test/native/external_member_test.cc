// External members on a private loop: held until attached, one handed
// buffer at a time, backpressure and policies, graceful close, heartbeats
// and timeouts, adoption of a socket, address counts and limits, function
// members.
#include "core/io/connection.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "io_fixture.h"

namespace sse {
namespace {

using testing_io::IoTest;
using testing_io::Pair;

const char kAddr[] = "127.0.0.1";
const char kKeepalive[] = ": keepalive\n\n";

ConnectionOptions quiet() {
  ConnectionOptions o;
  o.heartbeat_ms = 0;
  return o;
}

// "data: <seq>\n\n" padded with 'x' to `size` bytes (size >= 16).
std::string frame(int seq, size_t size = 16) {
  char num[16];
  std::snprintf(num, sizeof(num), "%06d", seq);
  std::string f = "data: ";
  f += num;
  f.append(size - f.size() - 2, 'x');
  f += "\n\n";
  return f;
}

// What a kData notification carried, copied before the buffer is released.
struct Handed {
  Connection* connection;
  void* user_data;
  std::string bytes;
  const SharedBuffer* buffer;
};

class ExternalMember : public IoTest {
 protected:
  void SetUp() override {
    IoTest::SetUp();
    rec_.hook = [this](const Notification* items, size_t n) {
      for (size_t i = 0; i < n; ++i) {
        if (items[i].kind != Notification::kData) continue;
        ASSERT_NE(items[i].data, nullptr);
        handed_.push_back(Handed{items[i].connection, items[i].user_data,
                                 std::string(items[i].data->data(), items[i].data->size()),
                                 items[i].data});
      }
    };
  }

  void TearDown() override {
    if (alive_started_) {
      uv_close(reinterpret_cast<uv_handle_t*>(&alive_), nullptr);
      alive_started_ = false;
    }
    IoTest::TearDown();
  }

  // External members have no handle of their own and the context's timer is
  // unref'd: in Node the embedder's sockets keep the loop alive. Here a
  // ref'd timer of the test does, so uv_run runs the context's timers.
  void keepLoopAlive() {
    ASSERT_EQ(uv_timer_init(&loop_, &alive_), 0);
    ASSERT_EQ(uv_timer_start(&alive_, [](uv_timer_t*) {}, 1000, 1000), 0);
    alive_started_ = true;
  }

  Connection* external(const ConnectionOptions& o, void* tag,
                       std::string_view address = kAddr) {
    Connection* c = Connection::createExternal(ctx_, o, address, tag);
    EXPECT_NE(c, nullptr);
    return c;
  }
  // A few loop turns without blocking.
  void turns(int n = 3) {
    for (int i = 0; i < n; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
  }
  int dataFor(void* tag) const { return rec_.count(Notification::kData, tag); }
  std::string handedTo(void* tag) const {
    std::string s;
    for (const Handed& h : handed_) {
      if (h.user_data == tag) s += h.bytes;
    }
    return s;
  }

  std::vector<Handed> handed_;
  uv_timer_t alive_;
  bool alive_started_ = false;
};

TEST_F(ExternalMember, HeldQueuesThenAttachHandsAllInOneBuffer) {
  int tag = 0;
  Connection* c = external(quiet(), &tag);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind(), MemberKind::kExternal);
  EXPECT_TRUE(c->held());
  EXPECT_TRUE(c->isOpen());
  std::string expected;
  for (int i = 0; i < 5; ++i) {
    std::string f = frame(i);
    EXPECT_EQ(i % 2 ? c->send(buffer(f)) : c->sendCopy(f.data(), f.size()),
              SendResult::kSuccess);
    expected += f;
    EXPECT_EQ(c->bufferedAmount(), expected.size());
  }
  c->flush();  // held: nothing to hand yet
  turns();
  EXPECT_EQ(dataFor(&tag), 0);
  EXPECT_EQ(c->bufferedAmount(), expected.size());

  c->attach();
  EXPECT_FALSE(c->held());
  uv_run(&loop_, UV_RUN_NOWAIT);
  ASSERT_EQ(dataFor(&tag), 1);
  EXPECT_EQ(handed_[0].connection, c);
  EXPECT_EQ(handed_[0].bytes, expected);
  // In flight until acknowledged: still counted, nothing more handed.
  EXPECT_EQ(c->bufferedAmount(), expected.size());
  std::string next = frame(99);
  c->send(buffer(next));
  c->flush();
  turns();
  EXPECT_EQ(dataFor(&tag), 1);
  EXPECT_EQ(c->bufferedAmount(), expected.size() + next.size());

  c->acknowledge();
  EXPECT_EQ(c->bufferedAmount(), next.size());
  uv_run(&loop_, UV_RUN_NOWAIT);
  ASSERT_EQ(dataFor(&tag), 2);
  EXPECT_EQ(handed_[1].bytes, next);
  c->acknowledge();
  EXPECT_EQ(c->bufferedAmount(), 0u);
  c->acknowledge();  // nothing handed: harmless
  turns();
  EXPECT_EQ(dataFor(&tag), 2);
  EXPECT_EQ(ctx_->stats().handoffs, 2u);
  EXPECT_EQ(ctx_->stats().bytes_written, expected.size() + next.size());
  EXPECT_EQ(ctx_->stats().events_sent, 6u);
  EXPECT_EQ(rec_.closes, 0);
}

TEST_F(ExternalMember, SingleQueuedFrameIsHandedWithoutCopy) {
  int tag = 0;
  Connection* c = external(quiet(), &tag);
  BufferRef sent = buffer(frame(1));
  const SharedBuffer* raw = sent.get();
  c->send(sent.share());
  c->attach();
  uv_run(&loop_, UV_RUN_NOWAIT);
  ASSERT_EQ(handed_.size(), 1u);
  EXPECT_EQ(handed_[0].buffer, raw) << "one frame: a share, not a copy";
  EXPECT_EQ(handed_[0].bytes, frame(1));
  c->acknowledge();
  EXPECT_EQ(sent.get()->refCount(), 1u);  // the queue let go of it

  // Two frames: one buffer holding both (necessarily a new one).
  BufferRef a = buffer(frame(2));
  BufferRef b = buffer(frame(3));
  c->send(a.share());
  c->send(b.share());
  uv_run(&loop_, UV_RUN_NOWAIT);
  ASSERT_EQ(handed_.size(), 2u);
  EXPECT_EQ(handed_[1].bytes, frame(2) + frame(3));
  EXPECT_NE(handed_[1].buffer, a.get());
  c->acknowledge();
}

TEST_F(ExternalMember, BackpressureThenDrainAfterAcknowledge) {
  int tag = 0;
  ConnectionOptions o = quiet();
  o.high_water_mark = 100;
  o.max_buffered = 10000;
  Connection* c = external(o, &tag);
  c->attach();
  EXPECT_EQ(c->send(buffer(frame(1, 60))), SendResult::kSuccess);
  EXPECT_EQ(c->send(buffer(frame(2, 60))), SendResult::kBackpressure);
  EXPECT_EQ(c->sendCopy(frame(3, 60).data(), 60), SendResult::kBackpressure);
  uv_run(&loop_, UV_RUN_NOWAIT);
  ASSERT_EQ(dataFor(&tag), 1);
  EXPECT_EQ(handed_[0].bytes.size(), 180u);
  turns();
  EXPECT_EQ(rec_.count(Notification::kDrain, &tag), 0) << "nothing taken yet";
  EXPECT_EQ(c->bufferedAmount(), 180u);
  c->acknowledge();
  EXPECT_EQ(c->bufferedAmount(), 0u);
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(rec_.count(Notification::kDrain, &tag), 1);
  turns();
  EXPECT_EQ(rec_.count(Notification::kDrain, &tag), 1);
  EXPECT_EQ(c->send(buffer(frame(4, 60))), SendResult::kSuccess);
  EXPECT_TRUE(c->isOpen());
}

TEST_F(ExternalMember, DrainWaitsForTheAcknowledgeThatBringsItUnder) {
  int tag = 0;
  ConnectionOptions o = quiet();
  o.high_water_mark = 100;
  Connection* c = external(o, &tag);
  c->attach();
  c->send(buffer(frame(1, 80)));
  uv_run(&loop_, UV_RUN_NOWAIT);  // 80 handed
  ASSERT_EQ(dataFor(&tag), 1);
  EXPECT_EQ(c->send(buffer(frame(2, 80))), SendResult::kBackpressure);
  EXPECT_EQ(c->send(buffer(frame(3, 80))), SendResult::kBackpressure);  // 240 queued
  c->acknowledge();  // 160 left: still above
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(c->bufferedAmount(), 160u);
  EXPECT_EQ(rec_.count(Notification::kDrain, &tag), 0);
  ASSERT_EQ(dataFor(&tag), 2);
  c->acknowledge();
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(rec_.count(Notification::kDrain, &tag), 1);
  EXPECT_EQ(handedTo(&tag), frame(1, 80) + frame(2, 80) + frame(3, 80));
}

// A sink that took nothing since the last flush while more than
// max_buffered waits behind what it was handed: kClose closes it.
TEST_F(ExternalMember, ClosePolicyPastMaxBufferedClosesWithEnobufs) {
  int tag = 0;
  ConnectionOptions o = quiet();
  o.high_water_mark = 50;
  o.max_buffered = 100;
  o.policy = SlowConsumerPolicy::kClose;
  Connection* c = external(o, &tag);
  EXPECT_EQ(ctx_->addressCount(kAddr), 1u);
  c->attach();
  EXPECT_EQ(c->send(buffer(frame(1, 60))), SendResult::kBackpressure);
  uv_run(&loop_, UV_RUN_NOWAIT);  // handed, never acknowledged
  ASSERT_EQ(dataFor(&tag), 1);
  EXPECT_EQ(c->send(buffer(frame(2, 60))), SendResult::kBackpressure);
  EXPECT_EQ(c->send(buffer(frame(3, 60))), SendResult::kBackpressure);  // 120 wait
  EXPECT_TRUE(c->isOpen()) << "a send never judges";
  // The flush judges (nothing taken) and closes it; the member is freed
  // once its kClose was delivered, so only the records tell from here.
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(ctx_->stats().slow_consumer_closes, 1u);
  EXPECT_EQ(ctx_->addressCount(kAddr), 0u);
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 1; }));
  EXPECT_EQ(rec_.statusOf(&tag), UV_ENOBUFS);
  EXPECT_EQ(dataFor(&tag), 1);
  EXPECT_EQ(ctx_->stats().connections_open, 0u);
}

// A burst of many times max_buffered in one turn is handed whole, in one
// buffer: the sink is judged only after it was given the chance to take it.
TEST_F(ExternalMember, ABurstAboveMaxBufferedIsHandedWhole) {
  int tag = 0;
  ConnectionOptions o = quiet();
  o.high_water_mark = 50;
  o.max_buffered = 100;
  Connection* c = external(o, &tag);
  c->attach();
  std::string want;
  for (int i = 0; i < 1000; ++i) {
    c->send(buffer(frame(i, 60)));
    want += frame(i, 60);
  }
  uv_run(&loop_, UV_RUN_NOWAIT);
  ASSERT_EQ(dataFor(&tag), 1);
  EXPECT_TRUE(handed_[0].bytes == want);
  c->send(buffer(frame(1000, 60)));  // waits behind the handed buffer
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_TRUE(c->isOpen());
  c->acknowledge();
  uv_run(&loop_, UV_RUN_NOWAIT);
  ASSERT_EQ(dataFor(&tag), 2);
  EXPECT_EQ(ctx_->stats().slow_consumer_closes, 0u);
}

// Under kDrop a sink judged slow has what it is sent dropped (counted, and
// a drain follows) until it takes bytes again; nothing queued is lost.
TEST_F(ExternalMember, DropPolicyDropsAndKeepsTheMember) {
  int tag = 0;
  ConnectionOptions o = quiet();
  o.high_water_mark = 50;
  o.max_buffered = 100;
  o.policy = SlowConsumerPolicy::kDrop;
  Connection* c = external(o, &tag);
  c->attach();
  EXPECT_EQ(c->send(buffer(frame(1, 60))), SendResult::kBackpressure);
  uv_run(&loop_, UV_RUN_NOWAIT);  // handed
  c->send(buffer(frame(2, 60)));
  c->send(buffer(frame(3, 60)));
  uv_run(&loop_, UV_RUN_NOWAIT);  // judged: stalled
  EXPECT_EQ(c->send(buffer(frame(4, 60))), SendResult::kDropped);
  EXPECT_EQ(c->sendCopy(frame(5, 60).data(), 60), SendResult::kDropped);
  EXPECT_EQ(ctx_->stats().drops, 2u);
  EXPECT_EQ(c->bufferedAmount(), 180u);
  EXPECT_TRUE(c->isOpen());
  c->acknowledge();  // progress: accepted again
  uv_run(&loop_, UV_RUN_NOWAIT);
  ASSERT_EQ(dataFor(&tag), 2);
  EXPECT_EQ(handed_[1].bytes, frame(2, 60) + frame(3, 60));
  EXPECT_EQ(c->send(buffer(frame(6, 40))), SendResult::kBackpressure);
  c->acknowledge();
  uv_run(&loop_, UV_RUN_NOWAIT);
  c->acknowledge();
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(handedTo(&tag), frame(1, 60) + frame(2, 60) + frame(3, 60) + frame(6, 40));
  EXPECT_GE(rec_.count(Notification::kDrain, &tag), 1);
  EXPECT_EQ(rec_.closes, 0);
}

// The time rule for an external sink: handed bytes not acknowledged for
// slow_consumer_ms while above the mark close it.
TEST_F(ExternalMember, ASinkThatTakesNothingForSlowConsumerMsIsClosed) {
  keepLoopAlive();
  int tag = 0;
  ConnectionOptions o = quiet();
  o.high_water_mark = 50;
  o.slow_consumer_ms = 100;
  Connection* c = external(o, &tag);
  c->attach();
  c->send(buffer(frame(1, 60)));
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 1; }, 5000));
  EXPECT_EQ(rec_.statusOf(&tag), UV_ENOBUFS);
  EXPECT_FALSE(c == nullptr);
}

TEST_F(ExternalMember, GracefulCloseHandsTheRestThenCloses) {
  int tag = 0;
  Connection* c = external(quiet(), &tag);
  c->attach();
  c->send(buffer(frame(1)));
  uv_run(&loop_, UV_RUN_NOWAIT);
  ASSERT_EQ(dataFor(&tag), 1);
  c->send(buffer(frame(2)));
  c->send(buffer(frame(3)));
  c->close(true);
  EXPECT_FALSE(c->isOpen());
  EXPECT_EQ(c->sendCopy("late", 4), SendResult::kClosed);
  turns();
  EXPECT_EQ(dataFor(&tag), 1) << "the first buffer is not acknowledged yet";
  EXPECT_EQ(rec_.closes, 0);
  c->acknowledge();
  uv_run(&loop_, UV_RUN_NOWAIT);
  ASSERT_EQ(dataFor(&tag), 2);
  EXPECT_EQ(handed_[1].bytes, frame(2) + frame(3));
  turns();
  EXPECT_EQ(rec_.closes, 0) << "closed before the last acknowledge";
  c->acknowledge();
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 1; }));
  EXPECT_EQ(rec_.statusOf(&tag), 0);
  EXPECT_EQ(handedTo(&tag), frame(1) + frame(2) + frame(3));
  // The kClose is the last notification of this member.
  EXPECT_EQ(rec_.all.back().kind, Notification::kClose);
  EXPECT_EQ(rec_.all.back().user_data, &tag);
}

TEST_F(ExternalMember, GracefulCloseOfAHeldMemberWaitsForItsSink) {
  int tag = 0;
  Connection* c = external(quiet(), &tag);
  c->send(buffer(frame(1)));
  c->close(true);
  turns();
  EXPECT_EQ(rec_.closes, 0);
  EXPECT_EQ(dataFor(&tag), 0);
  c->attach();
  uv_run(&loop_, UV_RUN_NOWAIT);
  ASSERT_EQ(dataFor(&tag), 1);
  EXPECT_EQ(handed_[0].bytes, frame(1));
  EXPECT_EQ(rec_.closes, 0);
  c->acknowledge();
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 1; }));
  EXPECT_EQ(rec_.statusOf(&tag), 0);
}

TEST_F(ExternalMember, GoneClosesAtOnceAndDropsTheQueue) {
  int tag = 0;
  Connection* c = external(quiet(), &tag);
  c->attach();
  c->send(buffer(frame(1)));
  uv_run(&loop_, UV_RUN_NOWAIT);
  ASSERT_EQ(dataFor(&tag), 1);
  BufferRef pending = buffer(frame(2));
  c->send(pending.share());
  EXPECT_EQ(pending.get()->refCount(), 2u);
  c->gone(UV_EOF);
  EXPECT_FALSE(c->isOpen());
  EXPECT_EQ(c->bufferedAmount(), 0u);
  EXPECT_EQ(pending.get()->refCount(), 1u) << "the queue was dropped";
  EXPECT_EQ(ctx_->stats().connections_open, 0u);
  EXPECT_EQ(ctx_->addressCount(kAddr), 0u);
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(rec_.closes, 1);
  EXPECT_EQ(rec_.statusOf(&tag), UV_EOF);
  turns();
  EXPECT_EQ(dataFor(&tag), 1);
  EXPECT_EQ(rec_.closes, 1);
}

TEST_F(ExternalMember, HeartbeatOnAnIdleMember) {
  int tag = 0;
  ConnectionOptions o;
  o.heartbeat_ms = 20;
  keepLoopAlive();
  Connection* c = external(o, &tag);
  c->attach();
  ASSERT_TRUE(runUntil([&] { return dataFor(&tag) >= 1; }))
      << "no heartbeat within the deadline";
  ASSERT_EQ(handed_.size(), 1u);
  EXPECT_EQ(handed_[0].bytes, kKeepalive);
  EXPECT_GE(ctx_->stats().heartbeats_sent, 1u);
  EXPECT_EQ(ctx_->stats().events_sent, 0u);  // a heartbeat is not an event
  c->acknowledge();
  EXPECT_EQ(c->bufferedAmount(), 0u);
  ASSERT_TRUE(runUntil([&] { return dataFor(&tag) >= 2; }))
      << "the heartbeat did not repeat";
  EXPECT_EQ(handed_[1].bytes, kKeepalive);
  EXPECT_TRUE(c->isOpen());
}

TEST_F(ExternalMember, IdleTimeoutClosesWithEtimedout) {
  int tag = 0;
  ConnectionOptions o = quiet();
  o.idle_timeout_ms = 30;
  keepLoopAlive();
  Connection* c = external(o, &tag);
  c->attach();
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 1; })) << "no idle close within the deadline";
  EXPECT_EQ(rec_.statusOf(&tag), UV_ETIMEDOUT);
  EXPECT_EQ(ctx_->stats().connections_open, 0u);
  (void)c;
}

TEST_F(ExternalMember, AdoptSocketPutsTheHeadFirstThenTheQueue) {
  int tag = 0;
  Connection* c = external(quiet(), &tag);
  std::string queued = frame(1) + frame(2) + frame(3);
  c->send(buffer(frame(1)));
  c->sendCopy(frame(2).data(), frame(2).size());
  c->send(buffer(frame(3)));
  EXPECT_EQ(c->bufferedAmount(), queued.size());
  Pair* p = connectPair();
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n";
  ASSERT_EQ(c->adoptSocket(p->server, buffer(head)), 0);
  ::close(p->server);  // Node destroys its socket object
  p->server = -1;
  EXPECT_EQ(c->kind(), MemberKind::kSocket);
  EXPECT_FALSE(c->held());
  EXPECT_EQ(ctx_->stats().connections_adopted, 1u);
  c->send(buffer(frame(4)));
  std::string expected = head + queued + frame(4);
  ASSERT_TRUE(readUntil(p, expected.size()));
  EXPECT_EQ(p->got, expected);
  EXPECT_EQ(c->bufferedAmount(), 0u);
  EXPECT_EQ(dataFor(&tag), 0) << "a socket member is not handed buffers";
  EXPECT_EQ(ctx_->addressCount(kAddr), 1u);
  EXPECT_EQ(c->adoptSocket(p->client, buffer(head)), UV_EINVAL);  // once only
  closeClient(p);
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 1; }));
  EXPECT_EQ(rec_.statusOf(&tag), UV_EOF);
  EXPECT_EQ(ctx_->addressCount(kAddr), 0u);
}

TEST_F(ExternalMember, FailedAdoptSocketLeavesTheMemberHeld) {
  int tag = 0;
  Connection* c = external(quiet(), &tag);
  c->send(buffer(frame(1)));
  EXPECT_EQ(c->adoptSocket(-1, buffer("HEAD")), UV_EBADF);
  EXPECT_TRUE(c->held());
  EXPECT_EQ(c->kind(), MemberKind::kExternal);
  EXPECT_EQ(c->bufferedAmount(), frame(1).size()) << "the head was taken back";
  c->attach();
  EXPECT_EQ(c->adoptSocket(-1, buffer("HEAD")), UV_EINVAL);  // attached: no more
  uv_run(&loop_, UV_RUN_NOWAIT);
  ASSERT_EQ(dataFor(&tag), 1);
  EXPECT_EQ(handed_[0].bytes, frame(1));
  c->acknowledge();
}

TEST_F(ExternalMember, AddressCountFollowsOpenMembers) {
  EXPECT_EQ(ctx_->addressCount(kAddr), 0u);
  int t1 = 0, t2 = 0, t3 = 0, t4 = 0;
  Connection* a = external(quiet(), &t1);
  Connection* b = external(quiet(), &t2);
  Connection* other = external(quiet(), &t3, "10.0.0.1");
  Connection* anon = external(quiet(), &t4, "");
  EXPECT_EQ(ctx_->addressCount(kAddr), 2u);
  EXPECT_EQ(ctx_->addressCount("10.0.0.1"), 1u);
  EXPECT_EQ(ctx_->addressCount(""), 0u);
  EXPECT_EQ(ctx_->stats().connections_open, 4u);
  a->close(false);
  EXPECT_EQ(ctx_->addressCount(kAddr), 1u);
  b->attach();
  b->close(true);  // nothing queued: closes on the next turn
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 2; }));
  EXPECT_EQ(ctx_->addressCount(kAddr), 0u);
  EXPECT_EQ(ctx_->addressCount("10.0.0.1"), 1u);
  other->gone(UV_EOF);
  EXPECT_EQ(ctx_->addressCount("10.0.0.1"), 0u);
  EXPECT_EQ(ctx_->stats().connections_open, 1u);
  (void)anon;
}

TEST_F(ExternalMember, CheckLimits) {
  ConnectionLimits limits;
  limits.max_connections = 3;
  ctx_->setLimits(limits);
  std::vector<std::string> none;
  EXPECT_EQ(ctx_->checkLimits(kAddr, none), Status::kOk);
  int t = 0;
  Connection* a = external(quiet(), &t);
  external(quiet(), &t);
  EXPECT_EQ(ctx_->checkLimits(kAddr, none), Status::kOk);
  external(quiet(), &t, "10.0.0.1");
  EXPECT_EQ(ctx_->checkLimits("", none), Status::kLimitConnections);
  EXPECT_EQ(ctx_->stats().refused, 1u);

  limits.max_connections = UINT64_MAX;
  limits.max_per_key = 1;
  ctx_->setLimits(limits);
  EXPECT_EQ(ctx_->checkLimits("", {"k"}), Status::kOk);
  ASSERT_EQ(ctx_->hub().join("k", a, nullptr, nullptr, nullptr), Hub::Join::kJoined);
  EXPECT_EQ(ctx_->checkLimits("", {"k"}), Status::kLimitPerKey);
  EXPECT_EQ(ctx_->checkLimits("", {"other", "k"}), Status::kLimitPerKey);
  EXPECT_EQ(ctx_->checkLimits("", {"other"}), Status::kOk);
  EXPECT_EQ(ctx_->stats().refused, 3u);

  limits.max_per_key = UINT64_MAX;
  limits.max_per_address = 2;
  ctx_->setLimits(limits);
  EXPECT_EQ(ctx_->checkLimits(kAddr, {"k"}), Status::kLimitPerAddress);
  EXPECT_EQ(ctx_->checkLimits("10.0.0.1", {"k"}), Status::kOk);
  EXPECT_EQ(ctx_->checkLimits("", none), Status::kOk);  // no address: not counted
  a->close(false);  // frees a slot of 127.0.0.1
  EXPECT_EQ(ctx_->checkLimits(kAddr, none), Status::kOk);

  // The first limit that applies is reported.
  limits.max_connections = 1;
  limits.max_per_key = 0;
  limits.max_per_address = 0;
  ctx_->setLimits(limits);
  EXPECT_EQ(ctx_->checkLimits(kAddr, {"k"}), Status::kLimitConnections);
  limits.max_connections = UINT64_MAX;
  ctx_->setLimits(limits);
  EXPECT_EQ(ctx_->checkLimits(kAddr, {"k"}), Status::kLimitPerKey);
  EXPECT_EQ(ctx_->checkLimits(kAddr, none), Status::kLimitPerAddress);
  EXPECT_EQ(ctx_->stats().refused, 7u);
}

TEST_F(ExternalMember, FunctionMembersAreNotStreams) {
  int ft = 0, et = 0;
  Connection* f = Connection::createFunction(ctx_, &ft);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->kind(), MemberKind::kFunction);
  EXPECT_TRUE(f->isFunction());
  EXPECT_EQ(ctx_->stats().connections_open, 0u);
  Connection* e = external(quiet(), &et);
  EXPECT_EQ(ctx_->stats().connections_open, 1u);
  ASSERT_EQ(ctx_->hub().join("k", f, nullptr, nullptr, nullptr), Hub::Join::kJoined);
  ASSERT_EQ(ctx_->hub().join("k", e, nullptr, nullptr, nullptr), Hub::Join::kJoined);
  EXPECT_EQ(f->sendCopy("x", 1), SendResult::kClosed);  // it has no queue

  std::vector<HubMember*> functions;
  BroadcastResult r;
  Message m;
  m.data = "hi";
  m.has_data = true;
  ASSERT_EQ(ctx_->broadcast("k", m, &r, &functions), FrameStatus::kOk);
  EXPECT_EQ(r.members, 2u);
  EXPECT_EQ(functions, (std::vector<HubMember*>{f}));

  ctx_->closeAll(false);
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 1; }));
  EXPECT_EQ(rec_.count(Notification::kClose, &et), 1);
  EXPECT_EQ(rec_.count(Notification::kClose, &ft), 0);
  turns();
  EXPECT_EQ(rec_.closes, 1);
  EXPECT_TRUE(f->isOpen());
  EXPECT_EQ(ctx_->hub().memberCount("k"), 1u);  // the function member stays
  EXPECT_EQ(f->bufferedAmount(), 0u);
  int seen = 0;
  ctx_->forEach([](Connection*, void* arg) { ++*static_cast<int*>(arg); }, &seen);
  EXPECT_EQ(seen, 0) << "forEach lists streams only";
  f->close(false);
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 2; }));
  EXPECT_EQ(rec_.count(Notification::kClose, &ft), 1);
  EXPECT_EQ(ctx_->hub().memberCount("k"), 0u);
}

}  // namespace
}  // namespace sse
