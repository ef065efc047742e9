// The connection engine over loopback: one shared 64-byte frame sent to
// every connection, flushed by one loop turn (cork: one writev per
// connection), with a reader thread draining the client ends.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/io/connection.h"
#include "core/io/loop_context.h"

namespace {

struct Fixture {
  explicit Fixture(int connections) {
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&loop);
    ctx = sse::LoopContext::create(&loop, nullptr);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(lfd, 1024);
    socklen_t len = sizeof(addr);
    getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
    sse::ConnectionOptions options;
    options.heartbeat_ms = 0;
    options.max_buffered = 64 * 1024 * 1024;
    options.policy = sse::SlowConsumerPolicy::kDrop;
    for (int i = 0; i < connections; ++i) {
      int client = socket(AF_INET, SOCK_STREAM, 0);
      connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
      int server = accept(lfd, nullptr, nullptr);
      sse::Connection* c = nullptr;
      sse::Connection::adopt(ctx, server, options, sse::BufferRef(), nullptr,
                             &c);
      close(server);
      clients.push_back(client);
      conns.push_back(c);
    }
    close(lfd);
    reader = std::thread([this] { readAll(); });
  }

  ~Fixture() {
    stop = true;
    reader.join();
    ctx->destroy(nullptr, nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    for (int fd : clients) close(fd);
  }

  void readAll() {
    std::vector<pollfd> fds;
    for (int fd : clients) fds.push_back(pollfd{fd, POLLIN, 0});
    char buf[65536];
    while (!stop) {
      if (poll(fds.data(), fds.size(), 10) <= 0) continue;
      for (pollfd& p : fds) {
        if (p.revents & POLLIN) recv(p.fd, buf, sizeof(buf), MSG_DONTWAIT);
      }
    }
  }

  uv_loop_t loop;
  sse::LoopContext* ctx;
  std::vector<int> clients;
  std::vector<sse::Connection*> conns;
  std::atomic<bool> stop{false};
  std::thread reader;
};

// range(0): connections; range(1): frames per connection per loop turn.
void BM_FanOutAndFlush(benchmark::State& state) {
  Fixture f(static_cast<int>(state.range(0)));
  const int frames = static_cast<int>(state.range(1));
  sse::BufferRef frame(sse::SharedBuffer::create(64));
  std::string bytes = "data: " + std::string(56, 'x') + "\n\n";
  std::copy(bytes.begin(), bytes.end(), frame.get()->data());
  for (auto _ : state) {
    for (int i = 0; i < frames; ++i) {
      for (sse::Connection* c : f.conns) c->send(frame.share());
    }
    uv_run(&f.loop, UV_RUN_NOWAIT);
  }
  int64_t sent = state.iterations() * frames * state.range(0);
  state.SetItemsProcessed(sent);
  state.SetBytesProcessed(sent * 64);
  state.counters["writev_per_turn"] = benchmark::Counter(
      static_cast<double>(f.ctx->stats().try_writes) / state.iterations());
  state.counters["drops"] = static_cast<double>(f.ctx->stats().drops);
}
BENCHMARK(BM_FanOutAndFlush)
    ->Args({1, 1})
    ->Args({1, 64})
    ->Args({100, 1})
    ->Args({100, 16});

}  // namespace
