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
  o.policy = policy;
  return o;
}

// Sends numbered frames, turning the loop now and then, until one is
// refused; returns what was accepted, in order.
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
    EXPECT_LE(c->bufferedAmount(), 32u * 1024);
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
  EXPECT_LE(c->bufferedAmount(), 32u * 1024);
  EXPECT_GT(c->bufferedAmount(), 8u * 1024);
  // More refused sends stay bounded and counted.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(c->sendCopy(frame(0).data(), kFrame), SendResult::kDropped);
  }
  EXPECT_EQ(ctx_->stats().drops, 11u);
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

}  // namespace
}  // namespace sse
