// sse_load: a native SSE load generator (epoll, non-blocking sockets, no Node).
//
// Opens N SSE connections (HTTP/1.1 GET <path>) to host:port, spreading the
// source addresses over 127.0.0.1..127.0.0.k so more connections fit than one
// source address has ports, parses every stream with the core's WHATWG parser
// and measures the latency of each event from a CLOCK_MONOTONIC timestamp the
// server put in its data (Node's process.hrtime.bigint() reads that clock).
//
// Payload contract (bench/servers/common.mjs): an event's data starts with
// `t=<ns>` (optionally inside a JSON string, `"t=<ns>...`), then padding.
//
// Output: one JSON line on stdout at the end (plus one per --interval-s when
// asked). "READY ..." goes to stderr once every connection has its response
// head or has failed, so a driver knows when to start publishing.
//
//   sse_load --port 8080 --path /sub --connections 1000 --until-events 2000
//   sse_load --port 8080 --connections 10000 --duration 120   (idle: hold,
//            stop with SIGTERM/SIGINT, which also prints the result)
//   sse_load --port 8080 --connections 100 --churn-total 20000
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/parser.h"

namespace {

volatile sig_atomic_t g_stop = 0;
void onSignal(int) { g_stop = 1; }

double cpuSeconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

uint64_t nowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

// Log-linear histogram of nanoseconds: exact below 128, then 64 sub-buckets
// per power of two (about 1.6 % resolution). Fixed size, no allocation.
class Histogram {
 public:
  static constexpr int kSub = 64;
  static constexpr int kBuckets = 128 + 58 * kSub;

  void record(uint64_t v) {
    counts_[index(v)]++;
    total_++;
    sum_ += v;
    if (v > max_) max_ = v;
  }
  void reset() { *this = Histogram(); }
  uint64_t total() const { return total_; }
  uint64_t max() const { return max_; }
  double mean() const { return total_ ? static_cast<double>(sum_) / total_ : 0; }

  // The value at quantile q (0..1): midpoint of the bucket holding it.
  uint64_t quantile(double q) const {
    if (total_ == 0) return 0;
    uint64_t rank = static_cast<uint64_t>(q * total_);
    if (rank >= total_) rank = total_ - 1;
    uint64_t seen = 0;
    for (int i = 0; i < kBuckets; i++) {
      seen += counts_[i];
      if (seen > rank) return std::min(mid(i), max_);
    }
    return max_;
  }

 private:
  static int index(uint64_t v) {
    if (v < 128) return static_cast<int>(v);
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - 6;  // v >> shift lies in [64, 127]
    int i = shift * kSub + static_cast<int>(v >> shift);
    return std::min(i, kBuckets - 1);
  }
  static uint64_t mid(int i) {
    if (i < 128) return static_cast<uint64_t>(i);
    int shift = i / kSub - 1;
    uint64_t m = static_cast<uint64_t>(i % kSub + kSub);
    return (m << shift) + ((1ull << shift) >> 1);
  }

  uint64_t counts_[kBuckets] = {};
  uint64_t total_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
};

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/sub";
  int connections = 1;
  int sources = 0;  // 0: one per 20 000 connections, at least 1
  double duration_s = 60;
  uint64_t until_events = 0;  // 0: run for the duration (or until a signal)
  double ramp = 0;            // connections per ms; 0: as fast as max_pending allows
  int max_pending = 256;      // connections without a response head yet
  uint64_t churn_total = 0;   // >0: close each stream at its head, reopen, until this many
  double interval_s = 0;      // >0: one JSON line per interval
  bool json = true;
};

struct Totals {
  uint64_t opened = 0;
  uint64_t connected = 0;  // response head 200 received
  uint64_t connect_errors = 0;
  uint64_t http_errors = 0;  // non-200 status or malformed head
  uint64_t read_errors = 0;
  uint64_t disconnects = 0;  // EOF or error after the head
  uint64_t events = 0;
  uint64_t bytes = 0;
  uint64_t bad_stamps = 0;
  uint64_t churned = 0;
  uint64_t first_event_ns = 0;
  uint64_t last_event_ns = 0;
};

class Load;

// One SSE connection: socket, HTTP response head, chunked decoding, parser.
class Conn : public sse::ParserHandler {
 public:
  enum class State { kConnecting, kHead, kBody, kDead };

  explicit Conn(Load* load) : load_(load), parser_(this) {}

  void onEvent(const sse::Event& e) override;
  void onId(std::string_view) override {}
  void onRetry(uint64_t) override {}
  void onComment(std::string_view) override {}
  void onError(sse::ParseErrorKind, std::string_view, std::string_view, std::string_view) override {}

  // Body bytes (after the head); de-chunks when needed. False at the end of
  // a chunked body.
  bool body(const char* p, size_t n);
  // Accumulates the head; returns bytes of `p` consumed by it, or -1 on a
  // bad head. Sets state_ to kBody when complete.
  long head(const char* p, size_t n);

  int fd_ = -1;
  State state_ = State::kConnecting;
  uint64_t events_ = 0;
  bool done_ = false;  // reached --until-events
  uint64_t now_ = 0;   // arrival time of the bytes being parsed

 private:
  enum class Chunk { kSize, kExt, kData, kDataEnd, kEnd };
  Load* load_;
  sse::Parser parser_;
  std::string head_;
  bool chunked_ = false;
  Chunk chunk_ = Chunk::kSize;
  uint64_t chunk_left_ = 0;
};

class Load {
 public:
  explicit Load(const Options& o) : o_(o) {}
  int run();
  void onEvent(Conn* c, std::string_view data);

 private:
  void openMore(uint64_t now);
  void openOne();
  void onReadable(Conn* c);
  void onConnected(Conn* c, uint32_t ev);
  void kill(Conn* c, uint64_t* counter);
  void settle(Conn* c);
  void printStats(FILE* out, const char* kind, const Histogram& h, uint64_t events,
                  double seconds, int interval);
  bool finished() const;

  Options o_;
  Totals t_;
  Histogram hist_;
  Histogram interval_hist_;
  int ep_ = -1;
  std::vector<sockaddr_in> sources_;
  sockaddr_in dest_{};
  std::string request_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<Conn*> dead_;  // churn: closed connections, freed after each epoll batch
  uint64_t target_total_ = 0;
  uint64_t live_ = 0;     // open sockets
  uint64_t pending_ = 0;  // open sockets without a head
  uint64_t settled_ = 0;  // connections that reached until-events or died
  uint64_t start_ns_ = 0;
  double cpu_at_first_event_ = 0;
  bool ready_printed_ = false;
};

void Conn::onEvent(const sse::Event& e) { load_->onEvent(this, e.data); }

long Conn::head(const char* p, size_t n) {
  size_t before = head_.size();
  head_.append(p, n);
  size_t end = head_.find("\r\n\r\n");
  if (end == std::string::npos) return head_.size() > 16384 ? -1 : static_cast<long>(n);
  std::string h = head_.substr(0, end + 2);
  for (char& ch : h) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
  if (h.compare(0, 9, "http/1.1 ") != 0 && h.compare(0, 9, "http/1.0 ") != 0) return -1;
  if (h.compare(9, 3, "200") != 0) return -1;
  size_t te = h.find("\r\ntransfer-encoding:");
  if (te != std::string::npos) {
    size_t eol = h.find("\r\n", te + 2);
    chunked_ = h.substr(te, eol - te).find("chunked") != std::string::npos;
  }
  state_ = State::kBody;
  std::string().swap(head_);
  return static_cast<long>(end + 4 - before);
}

bool Conn::body(const char* p, size_t n) {
  if (!chunked_) {
    parser_.feed(reinterpret_cast<const uint8_t*>(p), n);
    return true;
  }
  const char* end = p + n;
  while (p < end) {
    switch (chunk_) {
      case Chunk::kSize: {
        char ch = *p++;
        if (ch == '\n') {
          chunk_ = chunk_left_ == 0 ? Chunk::kEnd : Chunk::kData;
        } else if (ch == ';') {
          chunk_ = Chunk::kExt;
        } else if (ch != '\r') {
          int d = isdigit(static_cast<unsigned char>(ch)) ? ch - '0' : (tolower(ch) - 'a' + 10);
          if (d < 0 || d > 15) return false;
          chunk_left_ = chunk_left_ * 16 + static_cast<uint64_t>(d);
        }
        break;
      }
      case Chunk::kExt:
        if (*p++ == '\n') chunk_ = chunk_left_ == 0 ? Chunk::kEnd : Chunk::kData;
        break;
      case Chunk::kData: {
        size_t take = std::min<uint64_t>(chunk_left_, static_cast<uint64_t>(end - p));
        parser_.feed(reinterpret_cast<const uint8_t*>(p), take);
        p += take;
        chunk_left_ -= take;
        if (chunk_left_ == 0) chunk_ = Chunk::kDataEnd;
        break;
      }
      case Chunk::kDataEnd:
        if (*p++ == '\n') chunk_ = Chunk::kSize;
        break;
      case Chunk::kEnd:
        return false;
    }
  }
  return chunk_ != Chunk::kEnd;
}

void Load::onEvent(Conn* c, std::string_view data) {
  t_.events++;
  c->events_++;
  if (t_.first_event_ns == 0) {
    t_.first_event_ns = c->now_;
    cpu_at_first_event_ = cpuSeconds();
  }
  t_.last_event_ns = c->now_;
  size_t i = 0;
  if (i < data.size() && data[i] == '"') i++;
  if (data.size() >= i + 3 && data[i] == 't' && data[i + 1] == '=') {
    uint64_t stamp = 0;
    for (i += 2; i < data.size() && data[i] >= '0' && data[i] <= '9'; i++) stamp = stamp * 10 + (data[i] - '0');
    if (stamp != 0 && stamp <= c->now_) {
      hist_.record(c->now_ - stamp);
      if (o_.interval_s > 0) interval_hist_.record(c->now_ - stamp);
    } else {
      t_.bad_stamps++;
    }
  } else {
    t_.bad_stamps++;
  }
  if (o_.until_events && !c->done_ && c->events_ >= o_.until_events) {
    c->done_ = true;
    settled_++;
  }
}

void Load::openOne() {
  conns_.push_back(std::make_unique<Conn>(this));
  Conn* c = conns_.back().get();
  t_.opened++;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    t_.connect_errors++;
    c->state_ = Conn::State::kDead;
    settle(c);
    if (o_.churn_total) dead_.push_back(c);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const sockaddr_in& src = sources_[t_.opened % sources_.size()];
  if (bind(fd, reinterpret_cast<const sockaddr*>(&src), sizeof src) != 0 ||
      (connect(fd, reinterpret_cast<const sockaddr*>(&dest_), sizeof dest_) != 0 && errno != EINPROGRESS)) {
    close(fd);
    t_.connect_errors++;
    c->state_ = Conn::State::kDead;
    settle(c);
    if (o_.churn_total) dead_.push_back(c);
    return;
  }
  c->fd_ = fd;
  c->state_ = Conn::State::kConnecting;
  epoll_event ev{};
  ev.events = EPOLLOUT | EPOLLIN;
  ev.data.ptr = c;
  epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
  live_++;
  pending_++;
}

void Load::openMore(uint64_t now) {
  uint64_t concurrent = static_cast<uint64_t>(o_.connections);
  uint64_t allowed = target_total_;
  if (o_.ramp > 0) {
    double ms = static_cast<double>(now - start_ns_) / 1e6;
    allowed = std::min<uint64_t>(allowed, 1 + static_cast<uint64_t>(ms * o_.ramp));
  }
  while (t_.opened < allowed && live_ < concurrent && pending_ < static_cast<uint64_t>(o_.max_pending)) openOne();
}

// A connection no longer counts towards --until-events (it is done or dead).
void Load::settle(Conn* c) {
  if (!c->done_) {
    c->done_ = true;
    settled_++;
  }
}

void Load::kill(Conn* c, uint64_t* counter) {
  if (c->state_ == Conn::State::kDead) return;
  if (counter) (*counter)++;
  if (c->state_ != Conn::State::kBody) pending_--;
  epoll_ctl(ep_, EPOLL_CTL_DEL, c->fd_, nullptr);
  close(c->fd_);
  c->fd_ = -1;
  c->state_ = Conn::State::kDead;
  live_--;
  settle(c);
  if (o_.churn_total) dead_.push_back(c);
}

void Load::onConnected(Conn* c, uint32_t ev) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c->fd_, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0 || (ev & (EPOLLERR | EPOLLHUP))) {
    kill(c, &t_.connect_errors);
    return;
  }
  ssize_t w = write(c->fd_, request_.data(), request_.size());
  if (w != static_cast<ssize_t>(request_.size())) {
    kill(c, &t_.connect_errors);
    return;
  }
  c->state_ = Conn::State::kHead;
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.ptr = c;
  epoll_ctl(ep_, EPOLL_CTL_MOD, c->fd_, &e);
}

void Load::onReadable(Conn* c) {
  static char buf[1 << 16];
  ssize_t n = read(c->fd_, buf, sizeof buf);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    kill(c, c->state_ == Conn::State::kBody ? &t_.read_errors : &t_.connect_errors);
    return;
  }
  if (n == 0) {
    kill(c, c->state_ == Conn::State::kBody ? &t_.disconnects : &t_.connect_errors);
    return;
  }
  t_.bytes += static_cast<uint64_t>(n);
  c->now_ = nowNs();
  const char* p = buf;
  size_t left = static_cast<size_t>(n);
  if (c->state_ == Conn::State::kHead) {
    long used = c->head(p, left);
    if (used < 0) {
      kill(c, &t_.http_errors);
      return;
    }
    if (c->state_ != Conn::State::kBody) return;
    pending_--;
    t_.connected++;
    if (o_.churn_total) {
      t_.churned++;
      kill(c, nullptr);
      return;
    }
    p += used;
    left -= static_cast<size_t>(used);
  }
  if (left > 0 && !c->body(p, left)) kill(c, &t_.disconnects);
}

bool Load::finished() const {
  if (t_.opened < target_total_) return false;
  if (o_.churn_total) return live_ == 0;
  if (o_.until_events) return settled_ >= target_total_;
  return false;
}

void Load::printStats(FILE* out, const char* kind, const Histogram& h, uint64_t events, double seconds,
                      int interval) {
  double active = t_.last_event_ns > t_.first_event_ns ? (t_.last_event_ns - t_.first_event_ns) / 1e9 : 0;
  auto ms = [](uint64_t ns) { return ns / 1e6; };
  // The generator's own CPU while events arrived, to tell when it (not the
  // server) is the limit.
  double cpu = t_.first_event_ns ? cpuSeconds() - cpu_at_first_event_ : 0;
  fprintf(out,
          "{\"kind\":\"%s\",\"interval\":%d,\"connections\":%d,\"opened\":%" PRIu64 ",\"connected\":%" PRIu64
          ",\"live\":%" PRIu64 ",\"connect_errors\":%" PRIu64 ",\"http_errors\":%" PRIu64 ",\"read_errors\":%" PRIu64
          ",\"disconnects\":%" PRIu64 ",\"churned\":%" PRIu64 ",\"events\":%" PRIu64 ",\"bytes\":%" PRIu64
          ",\"bad_stamps\":%" PRIu64 ",\"cpu_s_receiving\":%.3f,\"elapsed_s\":%.3f,\"active_s\":%.3f,\"events_per_s\":%.0f,\"done\":%s"
          ",\"lat_ms\":{\"n\":%" PRIu64 ",\"p50\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f,\"mean\":%.3f}}\n",
          kind, interval, o_.connections, t_.opened, t_.connected, live_, t_.connect_errors, t_.http_errors,
          t_.read_errors, t_.disconnects, t_.churned, events, t_.bytes, t_.bad_stamps, cpu, seconds, active,
          interval ? events / seconds : (active > 0 ? events / active : 0), finished() ? "true" : "false", h.total(),
          ms(h.quantile(0.5)), ms(h.quantile(0.99)), ms(h.quantile(0.999)), ms(h.max()), h.mean() / 1e6);
  fflush(out);
}

int Load::run() {
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  dest_.sin_family = AF_INET;
  dest_.sin_port = htons(static_cast<uint16_t>(o_.port));
  if (inet_pton(AF_INET, o_.host.c_str(), &dest_.sin_addr) != 1) {
    fprintf(stderr, "sse_load: bad --host %s (IPv4 address expected)\n", o_.host.c_str());
    return 2;
  }
  int k = o_.sources > 0 ? o_.sources : std::max(1, (o_.connections + 19999) / 20000);
  for (int i = 0; i < k; i++) {
    sockaddr_in s{};
    s.sin_family = AF_INET;
    s.sin_addr.s_addr = htonl(0x7f000001u + static_cast<uint32_t>(i));  // 127.0.0.1 + i
    sources_.push_back(s);
  }
  request_ = "GET " + o_.path + " HTTP/1.1\r\nHost: " + o_.host + ":" + std::to_string(o_.port) +
             "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n";
  target_total_ = o_.churn_total ? o_.churn_total : static_cast<uint64_t>(o_.connections);
  conns_.reserve(static_cast<size_t>(o_.connections));
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  start_ns_ = nowNs();
  uint64_t deadline = start_ns_ + static_cast<uint64_t>(o_.duration_s * 1e9);
  uint64_t next_interval = o_.interval_s > 0 ? start_ns_ + static_cast<uint64_t>(o_.interval_s * 1e9) : 0;
  uint64_t interval_events = 0;
  int interval_no = 0;
  std::vector<epoll_event> evs(1024);

  while (!g_stop) {
    uint64_t now = nowNs();
    if (now >= deadline || finished()) break;
    openMore(now);
    if (!ready_printed_ && t_.opened >= target_total_ && pending_ == 0) {
      ready_printed_ = true;
      fprintf(stderr, "READY connected=%" PRIu64 " errors=%" PRIu64 " t_ms=%.1f\n", t_.connected,
              t_.connect_errors + t_.http_errors, (now - start_ns_) / 1e6);
      fflush(stderr);
    }
    if (next_interval && now >= next_interval) {
      interval_no++;
      printStats(stdout, "interval", interval_hist_, t_.events - interval_events, o_.interval_s, interval_no);
      interval_events = t_.events;
      interval_hist_.reset();
      next_interval += static_cast<uint64_t>(o_.interval_s * 1e9);
    }
    int n = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), 5);
    for (int i = 0; i < n; i++) {
      Conn* c = static_cast<Conn*>(evs[i].data.ptr);
      if (c->state_ == Conn::State::kDead) continue;
      if (c->state_ == Conn::State::kConnecting) {
        onConnected(c, evs[i].events);
      } else {
        onReadable(c);
      }
    }
    if (!dead_.empty()) {
      // Churn opens many more connections than are live: free the dead ones.
      std::sort(dead_.begin(), dead_.end());
      conns_.erase(std::remove_if(conns_.begin(), conns_.end(),
                                  [&](const std::unique_ptr<Conn>& p) {
                                    return std::binary_search(dead_.begin(), dead_.end(), p.get());
                                  }),
                   conns_.end());
      dead_.clear();
    }
  }
  double seconds = (nowNs() - start_ns_) / 1e9;
  printStats(stdout, "final", hist_, t_.events, seconds, 0);
  return 0;
}

void usage() {
  fprintf(stderr,
          "usage: sse_load --port P [--host 127.0.0.1] [--path /sub] [--connections N] [--sources k]\n"
          "                [--duration S] [--until-events N] [--ramp conns/ms] [--max-pending N]\n"
          "                [--churn-total N] [--interval-s S] [--json]\n");
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto val = [&]() -> const char* {
      if (i + 1 >= argc) {
        usage();
        exit(2);
      }
      return argv[++i];
    };
    if (a == "--host") o.host = val();
    else if (a == "--port") o.port = atoi(val());
    else if (a == "--path") o.path = val();
    else if (a == "--connections") o.connections = atoi(val());
    else if (a == "--sources") o.sources = atoi(val());
    else if (a == "--duration") o.duration_s = atof(val());
    else if (a == "--until-events") o.until_events = strtoull(val(), nullptr, 10);
    else if (a == "--ramp") o.ramp = atof(val());
    else if (a == "--max-pending") o.max_pending = atoi(val());
    else if (a == "--churn-total") o.churn_total = strtoull(val(), nullptr, 10);
    else if (a == "--interval-s") o.interval_s = atof(val());
    else if (a == "--json") o.json = true;
    else {
      usage();
      return 2;
    }
  }
  if (o.port <= 0 || o.connections <= 0 || o.max_pending <= 0) {
    usage();
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  Load load(o);
  return load.run();
}
