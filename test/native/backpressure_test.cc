// Backpressure and the slow-consumer policies over a client that stops
// reading (small socket buffers on both ends).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "core/io/connection.h"
#include "io_fixture.h"

namespace sse {
namespace {

using testing_io::IoTest;
using testing_io::Pair;

constexpr size_t kFrame = 1024;

std::string frame(int seq) {
  char num[16];
  std::snprintf(num, sizeof(num), "%06d", seq);
  std::string f = std::string("data: ") + num;
  f.append(kFrame - f.size() - 2, 'x');
  return f + "\n\n";
}

ConnectionOptions limits(SlowConsumerPolicy policy) {
  ConnectionOptions o;
  o.heartbeat_ms = 0;
  o.high_water_mark = 8 * 1024;
  o.max_buffered = 32 * 1024;
  o.slow_consumer_ms = 0;  // only the memory cap, unless a test turns it on
  o.policy = policy;
  return o;
}

// Sends numbered frames, eight per loop turn, until one is refused; returns
// what was accepted, in order. The cap is judged at each flush, after the
// write was tried: what waits is bounded by max_buffered plus one turn's
// sends plus the write in flight.
std::string fillUntilRefused(IoTest* t, uv_loop_t* loop, Connection* c,
                             SendResult* last, int* backpressured) {
  std::string accepted;
  for (int i = 0; i < 100000; ++i) {
    std::string f = frame(i);
    SendResult r = c->sendCopy(f.data(), f.size());
    if (r == SendResult::kDropped || r == SendResult::kClosed) {
      *last = r;
      return accepted;
    }
    if (r == SendResult::kBackpressure) ++*backpressured;
    EXPECT_LE(c->bufferedAmount(), 32u * 1024 + 8 * kFrame + 128 * 1024);
    accepted += f;
    if (i % 8 == 7) uv_run(loop, UV_RUN_NOWAIT);
  }
  ADD_FAILURE() << "never refused";
  return accepted;
}

TEST_F(IoTest, DropPolicyBoundsMemoryAndDrainsWhenClientResumes) {
  Pair* p = connectPair(4096, 4096);
  int tag = 0;
  Connection* c = adopt(p, limits(SlowConsumerPolicy::kDrop), "", &tag);
  SendResult last = SendResult::kSuccess;
  int backpressured = 0;
  std::string accepted =
      fillUntilRefused(this, &loop_, c, &last, &backpressured);
  EXPECT_EQ(last, SendResult::kDropped);
  EXPECT_GT(backpressured, 0);
  EXPECT_EQ(ctx_->stats().drops, 1u);
  EXPECT_GT(c->bufferedAmount(), 32u * 1024);
  // More refused sends stay bounded and counted.
  size_t held = c->bufferedAmount();
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(c->sendCopy(frame(0).data(), kFrame), SendResult::kDropped);
  }
  EXPECT_EQ(ctx_->stats().drops, 11u);
  EXPECT_EQ(c->bufferedAmount(), held);
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(rec_.drains, 0);
  // The client resumes: everything accepted arrives in order, then kDrain.
  ASSERT_TRUE(readUntil(p, accepted.size()));
  EXPECT_TRUE(p->got == accepted);
  ASSERT_TRUE(runUntil([&] { return rec_.drains == 1; }));
  EXPECT_EQ(rec_.count(Notification::kDrain, &tag), 1);
  EXPECT_LE(c->bufferedAmount(), 8u * 1024);
  EXPECT_TRUE(c->isOpen());
  EXPECT_EQ(c->sendCopy("data: again\n\n", 13), SendResult::kSuccess);
  ASSERT_TRUE(readUntil(p, accepted.size() + 13));
  EXPECT_EQ(rec_.closes, 0);
}

TEST_F(IoTest, ClosePolicyClosesTheSlowConsumerOnce) {
  Pair* p = connectPair(4096, 4096);
  int tag = 0;
  Connection* c = adopt(p, limits(SlowConsumerPolicy::kClose), "", &tag);
  SendResult last = SendResult::kSuccess;
  int backpressured = 0;
  fillUntilRefused(this, &loop_, c, &last, &backpressured);
  EXPECT_EQ(last, SendResult::kClosed);
  EXPECT_FALSE(c->isOpen());
  EXPECT_EQ(c->sendCopy("x", 1), SendResult::kClosed);
  EXPECT_EQ(ctx_->stats().slow_consumer_closes, 1u);
  EXPECT_EQ(ctx_->stats().drops, 0u);
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 1; }));
  EXPECT_EQ(rec_.statusOf(&tag), UV_ENOBUFS);
  EXPECT_EQ(rec_.drains, 0);
  EXPECT_TRUE(readToEof(p));
}

TEST_F(IoTest, SendFromDrainNotificationIsFlushedInTheSameTurn) {
  Pair* p = connectPair(4096, 4096);
  Connection* c = adopt(p, limits(SlowConsumerPolicy::kDrop), "", nullptr);
  SendResult last;
  int backpressured = 0;
  std::string accepted =
      fillUntilRefused(this, &loop_, c, &last, &backpressured);
  rec_.hook = [&](const Notification* n, size_t k) {
    for (size_t i = 0; i < k; ++i) {
      if (n[i].kind == Notification::kDrain)
        n[i].connection->sendCopy("data: end\n\n", 11);
    }
  };
  ASSERT_TRUE(readUntil(p, accepted.size() + 11));
  EXPECT_EQ(p->got.substr(accepted.size()), "data: end\n\n");
}

// Issue 11 #2: a fast producer is not a slow consumer. 8 MiB sent in one
// loop turn (256 times max_buffered) to a client that reads all arrives,
// and the member stays open under kClose.
TEST_F(IoTest, ABurstFarAboveMaxBufferedInOneTurnReachesAReadingClient) {
  Pair* p = connectPair();
  int tag = 0;
  Connection* c = adopt(p, limits(SlowConsumerPolicy::kClose), "", &tag);
  std::string want;
  for (int i = 0; i < 8192; ++i) {
    std::string f = frame(i);
    EXPECT_NE(c->sendCopy(f.data(), f.size()), SendResult::kClosed);
    want += f;
  }
  EXPECT_TRUE(c->isOpen());
  ASSERT_TRUE(readUntil(p, want.size()));
  EXPECT_TRUE(p->got == want);
  EXPECT_TRUE(c->isOpen());
  EXPECT_EQ(ctx_->stats().slow_consumer_closes, 0u);
  // Another burst one turn later, while the first may still be in flight.
  std::string more;
  for (int i = 0; i < 4096; ++i) {
    std::string f = frame(i);
    c->sendCopy(f.data(), f.size());
    more += f;
  }
  ASSERT_TRUE(readUntil(p, want.size() + more.size()));
  EXPECT_TRUE(p->got.substr(want.size()) == more);
  EXPECT_EQ(ctx_->stats().slow_consumer_closes, 0u);
  EXPECT_EQ(rec_.closes, 0);
}

// The time rule: a queue above the high-water mark with no byte taken for
// slow_consumer_ms is a slow consumer, whatever it is charged (here sends
// charged nothing, as a share of a frame held by very many members).
TEST_F(IoTest, AQueueStuckAboveTheMarkForSlowConsumerMsIsClosed) {
  Pair* p = connectPair(4096, 4096);
  int tag = 0;
  ConnectionOptions o = limits(SlowConsumerPolicy::kClose);
  o.slow_consumer_ms = 150;
  Connection* c = adopt(p, o, "", &tag);
  uint64_t start = uv_now(&loop_);
  for (int i = 0; i < 200; ++i) c->send(buffer(frame(i)), 0);  // 200 KiB, charged 0
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 1; }, 5000));
  uv_update_time(&loop_);
  EXPECT_GE(uv_now(&loop_) - start, 150u);
  EXPECT_EQ(rec_.statusOf(&tag), UV_ENOBUFS);
  EXPECT_EQ(ctx_->stats().slow_consumer_closes, 1u);
}

// The same under kDrop: the member stays, what it is sent is dropped until
// it reads again, and then what was queued arrives whole and in order.
TEST_F(IoTest, UnderDropTheTimeRuleDropsUntilTheClientReads) {
  Pair* p = connectPair(4096, 4096);
  int tag = 0;
  ConnectionOptions o = limits(SlowConsumerPolicy::kDrop);
  o.slow_consumer_ms = 100;
  Connection* c = adopt(p, o, "", &tag);
  std::string want;
  for (int i = 0; i < 100; ++i) {
    c->send(buffer(frame(i)), 0);
    want += frame(i);
  }
  ASSERT_TRUE(runUntil([&] { return c->send(buffer(frame(999)), 0) == SendResult::kDropped; }, 5000));
  EXPECT_TRUE(c->isOpen());
  EXPECT_GE(ctx_->stats().drops, 1u);
  // Sends accepted before it was judged (the probes above) follow.
  ASSERT_TRUE(readUntil(p, want.size()));
  EXPECT_TRUE(p->got.substr(0, want.size()) == want);
  ASSERT_TRUE(runUntil([&] {
    drainClient(p);
    return rec_.drains >= 1;
  }));
  EXPECT_EQ(c->sendCopy("data: again\n\n", 13), SendResult::kSuccess);
  EXPECT_EQ(rec_.closes, 0);
}

}  // namespace
}  // namespace sse
