// Test fixture for core/io: a private uv_loop_t, a LoopContext with a
// recording observer, and real loopback TCP pairs read by the test.
#ifndef SSE_TEST_NATIVE_IO_FIXTURE_H_
#define SSE_TEST_NATIVE_IO_FIXTURE_H_

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/io/connection.h"
#include "core/io/loop_context.h"

namespace sse {
namespace testing_io {

struct Recorder : LoopObserver {
  void onNotifications(const Notification* items, size_t n) override {
    ++batches;
    for (size_t i = 0; i < n; ++i) {
      all.push_back(items[i]);
      if (items[i].kind == Notification::kClose) ++closes;
      if (items[i].kind == Notification::kDrain) ++drains;
    }
    if (hook) hook(items, n);
  }
  int count(Notification::Kind kind, void* user_data) const {
    int k = 0;
    for (const Notification& n : all)
      k += n.kind == kind && n.user_data == user_data;
    return k;
  }
  int statusOf(void* user_data) const {
    for (const Notification& n : all) {
      if (n.kind == Notification::kClose && n.user_data == user_data)
        return n.status;
    }
    return 1;
  }
  std::vector<Notification> all;
  int batches = 0, closes = 0, drains = 0;
  std::function<void(const Notification*, size_t)> hook;
};

// One accepted connection: `client` is the test's end, `server` the accepted
// fd (Node's fd; the fixture closes it right after adopting, as Node would).
struct Pair {
  int client = -1;
  int server = -1;
  bool eof = false;
  std::string got;
};

class IoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // libuv writes with writev(2): a reset peer raises SIGPIPE unless it is
    // ignored, as Node does at startup.
    signal(SIGPIPE, SIG_IGN);
    ASSERT_EQ(uv_loop_init(&loop_), 0);
    ctx_ = LoopContext::create(&loop_, &rec_);
    ASSERT_NE(ctx_, nullptr);
    // libuv opens a reserve fd (loop->emfile_fd) with the loop's first
    // stream and keeps it until uv_loop_close; open it now so fd counts in
    // the tests compare like with like.
    uv_tcp_t warm;
    uv_tcp_init(&loop_, &warm);
    uv_close(reinterpret_cast<uv_handle_t*>(&warm), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listen_fd_, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(
        bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_EQ(listen(listen_fd_, 512), 0);
    socklen_t len = sizeof(addr_);
    ASSERT_EQ(
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr_), &len), 0);
  }

  void TearDown() override {
    destroyContext();
    for (Pair* p : pairs_) closeClient(p);
    for (Pair* p : pairs_) delete p;
    if (listen_fd_ >= 0) ::close(listen_fd_);
    EXPECT_EQ(uv_loop_close(&loop_), 0) << "a handle was left on the loop";
  }

  void destroyContext() {
    if (ctx_ == nullptr) return;
    int done = 0;
    ctx_->destroy([](void* arg) { ++*static_cast<int*>(arg); }, &done);
    ctx_ = nullptr;
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(done, 1);
  }

  // client_rcvbuf/server_sndbuf: 0 keeps the kernel default.
  Pair* connectPair(int client_rcvbuf = 0, int server_sndbuf = 0) {
    Pair* p = new Pair;
    pairs_.push_back(p);
    p->client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(p->client, 0);
    if (client_rcvbuf != 0) {
      setsockopt(p->client, SOL_SOCKET, SO_RCVBUF, &client_rcvbuf, sizeof(int));
    }
    EXPECT_EQ(
        connect(p->client, reinterpret_cast<sockaddr*>(&addr_), sizeof(addr_)),
        0);
    p->server =
        accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    EXPECT_GE(p->server, 0);
    if (server_sndbuf != 0) {
      setsockopt(p->server, SOL_SOCKET, SO_SNDBUF, &server_sndbuf, sizeof(int));
    }
    fcntl(p->client, F_SETFL, fcntl(p->client, F_GETFL) | O_NONBLOCK);
    return p;
  }

  Connection* adopt(Pair* p, const ConnectionOptions& options,
                    const std::string& head, void* user_data) {
    Connection* c = nullptr;
    int err = Connection::adopt(ctx_, p->server, options, buffer(head),
                                user_data, &c);
    EXPECT_EQ(err, 0) << uv_err_name(err);
    ::close(p->server);  // Node destroys its socket object
    p->server = -1;
    return c;
  }

  static BufferRef buffer(const std::string& s) {
    return BufferRef(SharedBuffer::copyOf(s.data(), s.size()));
  }

  void closeClient(Pair* p) {
    if (p->client >= 0) ::close(p->client);
    p->client = -1;
  }

  // Reads what the client can read now; sets eof at end of stream or error.
  void drainClient(Pair* p) {
    char buf[65536];
    while (p->client >= 0 && !p->eof) {
      ssize_t n = recv(p->client, buf, sizeof(buf), 0);
      if (n > 0) {
        p->got.append(buf, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        p->eof = true;
      } else {
        return;
      }
    }
  }

  // Turns the loop (never blocking long) until pred() holds; false after a
  // generous deadline so a bug fails instead of hanging.
  bool runUntil(const std::function<bool()>& pred, int deadline_ms = 10000) {
    auto end = std::chrono::steady_clock::now() +
               std::chrono::milliseconds(deadline_ms);
    while (true) {
      uv_run(&loop_, UV_RUN_NOWAIT);
      if (pred()) return true;
      if (std::chrono::steady_clock::now() > end) return false;
      int timeout = uv_backend_timeout(&loop_);
      if (timeout < 0 || timeout > 1) timeout = 1;
      pollfd pfd{uv_backend_fd(&loop_), POLLIN, 0};
      poll(&pfd, 1, timeout);
    }
  }

  bool readUntil(Pair* p, size_t bytes) {
    return runUntil([&] {
             drainClient(p);
             return p->got.size() >= bytes || p->eof;
           }) &&
           p->got.size() >= bytes;
  }

  bool readToEof(Pair* p) {
    return runUntil([&] {
      drainClient(p);
      return p->eof;
    });
  }

  uv_loop_t loop_;
  LoopContext* ctx_ = nullptr;
  Recorder rec_;
  int listen_fd_ = -1;
  sockaddr_in addr_{};
  std::vector<Pair*> pairs_;
};

inline int countOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int n = 0;
  while (readdir(dir) != nullptr) ++n;
  closedir(dir);
  return n;
}

}  // namespace testing_io
}  // namespace sse

#endif  // SSE_TEST_NATIVE_IO_FIXTURE_H_
