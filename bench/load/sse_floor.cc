// sse_floor: the C reference server for the whole-server benchmarks ("C
// epoll, one write per delivery" in issue 6). Single thread, epoll, one
// write() per event per subscriber, no framework: the floor a Node server is
// compared with. Same endpoints and payload as bench/servers/common.mjs:
//   GET /sub, GET|POST /publish?n=M&bytes=B&rate=R&mode=burst|turn&per=K, GET /stats
// The body of /sub is not chunked (it ends with the connection), as on
// sse-native's adopted path.
//   sse_floor [port]      prints "LISTENING <port>" once listening
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
#include <cmath>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;
void onSignal(int) { g_stop = 1; }

uint64_t nowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

struct Client {
  int fd = -1;
  bool sub = false;
  size_t index = 0;  // position in Server::subs_ while sub
  std::string in;    // request bytes until the head is complete
  std::string out;   // bytes a write() could not take yet (EPOLLOUT armed)
};

class Server {
 public:
  int run(int port);

 private:
  void accept_();
  void onReadable(Client* c);
  void onWritable(Client* c);
  void route(Client* c, const std::string& target);
  void reply(Client* c, int status, const std::string& body);
  void drop(Client* c);
  void send(Client* c, const char* p, size_t n);
  void publishOne();
  std::string stats() const;

  int ep_ = -1;
  int lfd_ = -1;
  std::unordered_map<int, std::unique_ptr<Client>> clients_;
  std::vector<Client*> subs_;
  std::string pad_ = std::string(1 << 16, '.');
  std::string frame_;
  // Publishing state.
  uint64_t left_ = 0;
  uint64_t bytes_ = 64;
  uint64_t per_ = 1;
  double rate_ = 0;
  bool turn_ = false;
  uint64_t pub_start_ns_ = 0;
  uint64_t pub_sent_ = 0;
  uint64_t published_ = 0;
};

uint64_t queryNum(const std::string& target, const char* key, uint64_t dflt) {
  std::string k = std::string(key) + "=";
  size_t q = target.find('?');
  if (q == std::string::npos) return dflt;
  size_t i = q + 1;
  while (i < target.size()) {
    size_t amp = target.find('&', i);
    if (amp == std::string::npos) amp = target.size();
    if (target.compare(i, k.size(), k) == 0) return strtoull(target.c_str() + i + k.size(), nullptr, 10);
    i = amp + 1;
  }
  return dflt;
}

std::string queryStr(const std::string& target, const char* key) {
  std::string k = std::string(key) + "=";
  size_t p = target.find("?" + k);
  if (p == std::string::npos) p = target.find("&" + k);
  if (p == std::string::npos) return "";
  size_t s = p + 1 + k.size();
  size_t e = target.find('&', s);
  return target.substr(s, e == std::string::npos ? std::string::npos : e - s);
}

void Server::send(Client* c, const char* p, size_t n) {
  if (c->out.empty()) {
    ssize_t w = write(c->fd, p, n);
    if (w == static_cast<ssize_t>(n)) return;
    if (w < 0) {
      if (errno != EAGAIN) return;  // the read side notices the close
      w = 0;
    }
    p += w;
    n -= static_cast<size_t>(w);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.fd = c->fd;
    epoll_ctl(ep_, EPOLL_CTL_MOD, c->fd, &ev);
  }
  c->out.append(p, n);
}

void Server::onWritable(Client* c) {
  ssize_t w = write(c->fd, c->out.data(), c->out.size());
  if (w > 0) c->out.erase(0, static_cast<size_t>(w));
  if (c->out.empty()) {
    std::string().swap(c->out);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = c->fd;
    epoll_ctl(ep_, EPOLL_CTL_MOD, c->fd, &ev);
  }
}

void Server::publishOne() {
  char stamp[32];
  int len = snprintf(stamp, sizeof stamp, "t=%" PRIu64, nowNs());
  frame_.assign("data: ");
  frame_.append(stamp, static_cast<size_t>(len));
  if (bytes_ > static_cast<uint64_t>(len)) frame_.append(pad_, 0, std::min<size_t>(bytes_ - len, pad_.size()));
  frame_.append("\n\n");
  for (Client* c : subs_) send(c, frame_.data(), frame_.size());
  published_++;
  pub_sent_++;
  left_--;
}

std::string Server::stats() const {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  uint64_t user = ru.ru_utime.tv_sec * 1000000ull + ru.ru_utime.tv_usec;
  uint64_t sys = ru.ru_stime.tv_sec * 1000000ull + ru.ru_stime.tv_usec;
  long pages = 0, resident = 0;
  if (FILE* f = fopen("/proc/self/statm", "r")) {
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
  }
  char buf[512];
  snprintf(buf, sizeof buf,
           "{\"name\":\"c-floor\",\"fanout\":\"c-write-per-delivery\",\"pid\":%d,\"connections\":%zu,\"rss\":%ld,"
           "\"cpu_us\":%" PRIu64 ",\"cpu_user_us\":%" PRIu64 ",\"cpu_sys_us\":%" PRIu64 ",\"published\":%" PRIu64
           ",\"publishing\":%d}",
           getpid(), subs_.size(), resident * sysconf(_SC_PAGESIZE), user + sys, user, sys, published_,
           left_ > 0 ? 1 : 0);
  return buf;
}

void Server::reply(Client* c, int status, const std::string& body) {
  std::string r = "HTTP/1.1 " + std::to_string(status) +
                  (status == 200 ? " OK" : status == 202 ? " Accepted" : " Not Found") +
                  "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body;
  send(c, r.data(), r.size());
  if (c->out.empty()) drop(c);  // else closed once written (see onWritable caller)
}

void Server::route(Client* c, const std::string& target) {
  std::string path = target.substr(0, target.find('?'));
  if (path == "/sub") {
    static const char kHead[] =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\n"
        "Connection: keep-alive\r\n\r\n";
    c->sub = true;
    c->index = subs_.size();
    subs_.push_back(c);
    std::string().swap(c->in);
    send(c, kHead, sizeof kHead - 1);
  } else if (path == "/publish") {
    left_ = queryNum(target, "n", 1);
    bytes_ = std::max<uint64_t>(1, queryNum(target, "bytes", 64));
    rate_ = static_cast<double>(queryNum(target, "rate", 0));
    per_ = std::max<uint64_t>(1, queryNum(target, "per", 1));
    turn_ = queryStr(target, "mode") == "turn";
    pub_start_ns_ = nowNs();
    pub_sent_ = 0;
    reply(c, 202, "{\"ok\":true}");
  } else if (path == "/stats") {
    reply(c, 200, stats());
  } else {
    reply(c, 404, "");
  }
}

void Server::drop(Client* c) {
  if (c->sub) {
    Client* last = subs_.back();
    subs_[c->index] = last;
    last->index = c->index;
    subs_.pop_back();
  }
  epoll_ctl(ep_, EPOLL_CTL_DEL, c->fd, nullptr);
  close(c->fd);
  clients_.erase(c->fd);
}

void Server::onReadable(Client* c) {
  char buf[8192];
  ssize_t n = read(c->fd, buf, sizeof buf);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return drop(c);
  if (n < 0 || c->sub) return;  // a subscriber's bytes are ignored
  c->in.append(buf, static_cast<size_t>(n));
  size_t end = c->in.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (c->in.size() > 16384) drop(c);
    return;
  }
  size_t sp1 = c->in.find(' ');
  size_t sp2 = c->in.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos || sp2 > end) return drop(c);
  route(c, c->in.substr(sp1 + 1, sp2 - sp1 - 1));
}

void Server::accept_() {
  for (;;) {
    int fd = accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<Client>();
    c->fd = fd;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    clients_[fd] = std::move(c);
  }
}

int Server::run(int port) {
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  lfd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(lfd_, 4096) != 0) {
    perror("sse_floor: bind/listen");
    return 1;
  }
  socklen_t len = sizeof a;
  getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &len);
  printf("LISTENING %d\n", ntohs(a.sin_port));
  fflush(stdout);
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lfd_;
  epoll_ctl(ep_, EPOLL_CTL_ADD, lfd_, &ev);
  std::vector<epoll_event> evs(1024);
  while (!g_stop) {
    int timeout = 100;
    if (left_ > 0) {
      if (rate_ > 0) {
        uint64_t elapsed = nowNs() - pub_start_ns_;
        uint64_t due = static_cast<uint64_t>(elapsed / 1e9 * rate_) + 1;
        while (left_ > 0 && pub_sent_ < due) publishOne();
        double next_ms = (pub_sent_ / rate_) * 1e3 - elapsed / 1e6;
        // Rounded up: truncated, the last millisecond before each event was
        // spent in epoll_wait(0) calls (a busy wait counted as server CPU).
        timeout = left_ > 0 ? std::max(0, static_cast<int>(std::ceil(next_ms))) : 100;
      } else if (turn_) {
        for (uint64_t i = 0; i < per_ && left_ > 0; i++) publishOne();
        timeout = 0;
      } else {
        while (left_ > 0) publishOne();
      }
    }
    int n = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), timeout);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == lfd_) {
        accept_();
        continue;
      }
      auto it = clients_.find(fd);
      if (it == clients_.end()) continue;
      Client* c = it->second.get();
      if (evs[i].events & EPOLLOUT) {
        onWritable(c);
        // A /stats or /publish reply that had to wait: close once written.
        if (c->out.empty() && !c->sub && !c->in.empty() && c->in.find("\r\n\r\n") != std::string::npos) {
          drop(c);
          continue;
        }
      }
      if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) onReadable(c);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  Server s;
  return s.run(argc > 1 ? atoi(argv[1]) : 0);
}
