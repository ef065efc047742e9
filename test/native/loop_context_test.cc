#include "core/io/loop_context.h"

#include <gtest/gtest.h>

#include <string>

#include "core/io/connection.h"
#include "io_fixture.h"

namespace sse {
namespace {

using testing_io::IoTest;
using testing_io::Pair;

constexpr char kKeepalive[] = ": keepalive\n\n";

size_t countOf(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos;
       at = s.find(what, at + 1))
    ++n;
  return n;
}

TEST_F(IoTest, HeartbeatsGoToIdleConnectionsOnly) {
  Pair* idle = connectPair();
  Pair* busy = connectPair();
  ConnectionOptions o;
  o.heartbeat_ms = 20;
  adopt(idle, o, "", nullptr);
  Connection* b = adopt(busy, o, "", nullptr);
  EXPECT_EQ(ctx_->tickMs(), 10u);
  ASSERT_TRUE(runUntil([&] {
    drainClient(idle);
    b->sendCopy("data: x\n\n", 9);  // every turn: never idle
    return countOf(idle->got, kKeepalive) >= 3;
  }));
  // Only whole keepalives, and the counter agrees once all have arrived.
  ASSERT_TRUE(runUntil([&] {
    drainClient(idle);
    return idle->got.size() ==
           ctx_->stats().heartbeats_sent * (sizeof(kKeepalive) - 1);
  }));
  EXPECT_EQ(countOf(idle->got, kKeepalive), ctx_->stats().heartbeats_sent);
  drainClient(busy);
  EXPECT_EQ(countOf(busy->got, kKeepalive), 0u);
  EXPECT_EQ(rec_.closes, 0);
}

// The client resets while the loop is not looking: the next heartbeat is
// written (timers and the prepare flush run before the poll that would read
// the RST) and its failure reaps the connection.
TEST_F(IoTest, FailedHeartbeatReapsAVanishedPeer) {
  Pair* p = connectPair();
  int tag = 0;
  ConnectionOptions o;
  o.heartbeat_ms = 10;
  adopt(p, o, "", &tag);
  uv_run(&loop_, UV_RUN_NOWAIT);
  linger lg{1, 0};
  ASSERT_EQ(setsockopt(p->client, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
  closeClient(p);
  poll(nullptr, 0, 25);
  uint64_t writes = ctx_->stats().try_writes;
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 1; }));
  EXPECT_EQ(ctx_->stats().heartbeats_sent, 1u);
  EXPECT_EQ(ctx_->stats().try_writes, writes + 1);
  int status = rec_.statusOf(&tag);
  EXPECT_TRUE(status == UV_ECONNRESET || status == UV_EPIPE)
      << uv_err_name(status);
}

TEST_F(IoTest, IdleTimeoutClosesGracefullyAndHeartbeatsDoNotCount) {
  Pair* p = connectPair();
  int tag = 0;
  ConnectionOptions o;
  o.heartbeat_ms = 10;
  o.idle_timeout_ms = 60;
  Connection* c = adopt(p, o, "", &tag);
  c->sendCopy("data: first\n\n", 13);
  ASSERT_TRUE(readToEof(p));
  EXPECT_EQ(p->got.substr(0, 13), "data: first\n\n");
  EXPECT_GE(countOf(p->got, kKeepalive), 1u);
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 1; }));
  EXPECT_EQ(rec_.statusOf(&tag), UV_ETIMEDOUT);
}

TEST_F(IoTest, MaxDurationClosesEvenABusyConnection) {
  Pair* p = connectPair();
  int tag = 0;
  ConnectionOptions o;
  o.heartbeat_ms = 0;
  o.max_duration_ms = 50;
  Connection* c = adopt(p, o, "", &tag);
  size_t sent = 0;
  ASSERT_TRUE(runUntil([&] {
    if (rec_.closes == 0 &&
        c->sendCopy("data: x\n\n", 9) != SendResult::kClosed)
      sent += 9;
    drainClient(p);
    return p->eof && rec_.closes == 1;
  }));
  EXPECT_EQ(p->got.size(), sent);  // graceful: everything accepted arrived
  EXPECT_EQ(rec_.statusOf(&tag), UV_ETIMEDOUT);
}

TEST_F(IoTest, CloseAllGracefulFlushesEveryConnectionInOneBatch) {
  Pair* p[3];
  int tags[3];
  for (int i = 0; i < 3; ++i) {
    p[i] = connectPair();
    Connection* c = adopt(p[i], ConnectionOptions(), "head\n", &tags[i]);
    c->sendCopy("data: bye\n\n", 11);
  }
  ctx_->closeAll(true);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(readToEof(p[i]));
    EXPECT_EQ(p[i]->got, "head\ndata: bye\n\n");
  }
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 3; }));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(rec_.statusOf(&tags[i]), 0);
  EXPECT_EQ(ctx_->stats().connections_open, 0u);
}

TEST_F(IoTest, ClosesOfOneTurnAreDeliveredInOneCall) {
  Pair* p[4];
  for (auto& pair : p) {
    pair = connectPair();
    adopt(pair, ConnectionOptions(), "", nullptr);
  }
  uv_run(&loop_, UV_RUN_NOWAIT);
  for (auto& pair : p) closeClient(pair);
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 4; }));
  // EOFs may be read in one or two poll rounds, never one call per close.
  EXPECT_LE(rec_.batches, 2);
}

TEST_F(IoTest, CloseNotificationKeepsTheLoopAliveUntilDelivered) {
  Pair* p = connectPair();
  Connection* c = adopt(p, ConnectionOptions(), "", nullptr);
  c->close(false);
  uv_run(&loop_, UV_RUN_DEFAULT);  // returns only when nothing is left to do
  EXPECT_EQ(rec_.closes, 1);
}

TEST_F(IoTest, ForEachReachesEveryLiveConnection) {
  Pair* p[3];
  int tags[3];
  for (int i = 0; i < 3; ++i) {
    p[i] = connectPair();
    adopt(p[i], ConnectionOptions(), "", &tags[i]);
  }
  closeClient(p[1]);
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 1; }));
  // A last event for everyone still there, then a graceful closeAll.
  ctx_->forEach([](Connection* c, void*) { c->sendCopy("event: bye\n\n", 12); },
                nullptr);
  ctx_->closeAll(true);
  for (int i : {0, 2}) {
    ASSERT_TRUE(readToEof(p[i]));
    EXPECT_EQ(p[i]->got, "event: bye\n\n");
  }
  ASSERT_TRUE(runUntil([&] { return rec_.closes == 3; }));
}

TEST_F(IoTest, DestroyClosesEverythingWithoutNotifications) {
  Pair* p[4];
  for (int i = 0; i < 4; ++i) {
    p[i] = connectPair(4096, 4096);
    ConnectionOptions o;
    o.heartbeat_ms = 5;
    Connection* c = adopt(p[i], o, "head\n", nullptr);
    std::string big(20000, 'x');
    c->sendCopy(big.data(), big.size());  // partly stuck in the queue
    if (i == 1) c->close(true);           // a graceful close in progress
    if (i == 2) c->close(false);          // an abrupt close in progress
  }
  uv_run(&loop_, UV_RUN_NOWAIT);
  destroyContext();
  EXPECT_EQ(rec_.closes, 0);
  for (auto& pair : p) EXPECT_TRUE(readToEof(pair));
}

TEST_F(IoTest, DestroyFromInsideANotification) {
  Pair* p = connectPair();
  Pair* q = connectPair();
  adopt(p, ConnectionOptions(), "", nullptr);
  adopt(q, ConnectionOptions(), "", nullptr);
  int done = 0;
  rec_.hook = [&](const Notification*, size_t) {
    ctx_->destroy([](void* arg) { ++*static_cast<int*>(arg); }, &done);
    ctx_ = nullptr;
  };
  closeClient(p);
  ASSERT_TRUE(runUntil([&] { return done == 1; }));
  EXPECT_EQ(rec_.closes, 1);
  EXPECT_TRUE(readToEof(q));
}

}  // namespace
}  // namespace sse
