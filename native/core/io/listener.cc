#include "core/io/listener.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

#include "core/io/connection.h"

#ifndef _WIN32
#include <sys/socket.h>
#endif

namespace sse {

namespace {
constexpr uint32_t kFirstBuffer = 1024;  // most EventSource heads fit

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}
}  // namespace

// The response being written: its bytes and the two requests, freed with
// the pending (libuv cancels an unfinished write before the close callback).
struct Pending::Answer {
  uv_write_t write;
  uv_shutdown_t shutdown;
  std::string bytes;
};

// ---- Pending ----------------------------------------------------------

Pending::Pending(Listener* listener) : listener_(listener) { tcp_.data = this; }

Pending::~Pending() {
  std::free(buf_);
  delete answer_;
}

uint32_t Pending::listenerId() const { return listener_->id_; }

void Pending::head(RequestHead* out) const {
  parseRequestHead(buf_, len_, out);
}

bool Pending::peer(std::string* address, int* port) const {
  sockaddr_storage ss{};
  int len = sizeof(ss);
  if (uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return false;
  char name[64] = {0};
  if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    uv_ip6_name(a, name, sizeof(name));
    *port = ntohs(a->sin6_port);
  } else if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    uv_ip4_name(a, name, sizeof(name));
    *port = ntohs(a->sin_port);
  } else {
    return false;
  }
  address->assign(name);
  return true;
}

int Pending::accept(Connection* member, BufferRef head) {
  if (state_ != State::kWaiting) return UV_ENOENT;
  if (member == nullptr || !member->held() || !member->isOpen()) return UV_EINVAL;
  uv_os_fd_t fd;
  int err = uv_fileno(reinterpret_cast<const uv_handle_t*>(&tcp_), &fd);
  if (err == 0) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
    // The member duplicates the fd and takes the original off the loop's
    // epoll set; closing this handle then closes the original.
    err = member->adoptSocket(static_cast<int>(fd), std::move(head));
  }
  if (err == 0) {
    ++listener_->stats_.adopted;
  } else {
    // Out of fds or memory: the original may be off the epoll set already,
    // so it cannot read again. The client sees the connection close.
    ++listener_->stats_.accept_errors;
  }
  closeNow();
  return err;
}

HeadStatus Pending::respond(int status, std::string_view reason, const HeaderList& headers,
                            std::string_view body, size_t* bad_index) {
  if (state_ != State::kWaiting) return HeadStatus::kOk;  // the caller checked
  HeaderList all;
  std::vector<size_t> index;  // all[i] is headers[index[i]]
  all.reserve(headers.size() + 2);
  index.reserve(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) {
    std::string_view n = headers[i].first;
    if (equalsIgnoreCase(n, "content-length") || equalsIgnoreCase(n, "connection") ||
        equalsIgnoreCase(n, "transfer-encoding")) {
      continue;
    }
    all.push_back(headers[i]);
    index.push_back(i);
  }
  std::string length = std::to_string(body.size());
  all.emplace_back("Content-Length", length);
  all.emplace_back("Connection", "close");
  std::string bytes;
  size_t bad = 0;
  HeadStatus st = buildResponseHead(status, reason, all, &bytes, &bad);
  if (st != HeadStatus::kOk) {
    if (bad_index != nullptr) *bad_index = bad < index.size() ? index[bad] : 0;
    return st;
  }
  bytes.append(body.data(), body.size());
  ++listener_->stats_.responded;
  answer(std::move(bytes));
  return HeadStatus::kOk;
}

void Pending::answerBadHead(RequestHeadStatus st) {
  RequestHeadAnswer a = requestHeadAnswer(st);
  std::string body = a.text;
  body += '\n';
  std::string length = std::to_string(body.size());
  HeaderList h{{"Content-Type", "text/plain; charset=utf-8"},
               {"Content-Length", length},
               {"Connection", "close"}};
  std::string bytes;
  buildResponseHead(a.status, a.reason, h, &bytes);  // constant, valid input
  bytes += body;
  ++listener_->stats_.bad_heads;
  answer(std::move(bytes));
}

// Frees the head (the views handed out end here), writes, then shuts down;
// reads on, discarding, until the client closes or the deadline: closing
// with unread bytes would reset the connection and could lose the answer.
void Pending::answer(std::string bytes) {
  if (id_ != 0) {
    listener_->ctx_->removeRequest(id_);
    id_ = 0;
  }
  std::free(buf_);
  buf_ = nullptr;
  len_ = cap_ = 0;
  state_ = State::kAnswering;
  listener_->schedule(this);
  answer_ = new (std::nothrow) Answer;
  if (answer_ == nullptr) {
    closeNow();
    return;
  }
  answer_->bytes = std::move(bytes);
  answer_->write.data = this;
  answer_->shutdown.data = this;
  uv_buf_t b = uv_buf_init(answer_->bytes.data(), static_cast<unsigned>(answer_->bytes.size()));
  if (uv_write(&answer_->write, reinterpret_cast<uv_stream_t*>(&tcp_), &b, 1, writeCb) != 0) {
    closeNow();
  }
}

void Pending::writeCb(uv_write_t* req, int status) {
  auto* p = static_cast<Pending*>(req->data);
  if (p->state_ == State::kClosing) return;  // cancelled by closeNow
  if (status != 0 ||
      uv_shutdown(&p->answer_->shutdown, reinterpret_cast<uv_stream_t*>(&p->tcp_), shutdownCb) != 0) {
    p->closeNow();
  }
}

void Pending::shutdownCb(uv_shutdown_t* req, int status) {
  auto* p = static_cast<Pending*>(req->data);
  if (p->state_ == State::kClosing) return;
  if (status != 0) p->closeNow();
}

void Pending::allocCb(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* p = static_cast<Pending*>(handle->data);
  if (p->state_ == State::kReading) {
    uint32_t max = static_cast<uint32_t>(p->listener_->options_.max_head_bytes);
    if (p->len_ == p->cap_ && p->cap_ < max) {
      uint32_t cap = p->cap_ == 0 ? kFirstBuffer : p->cap_ * 2;
      if (cap > max) cap = max;
      char* grown = static_cast<char*>(std::realloc(p->buf_, cap));
      if (grown != nullptr) {
        p->buf_ = grown;
        p->cap_ = cap;
      }
    }
    *buf = uv_buf_init(p->buf_ + p->len_, p->cap_ - p->len_);  // 0 bytes: UV_ENOBUFS
    return;
  }
  LoopContext* ctx = p->listener_->ctx_;
  *buf = uv_buf_init(ctx->read_buffer_, sizeof(ctx->read_buffer_));
}

void Pending::readCb(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
  auto* p = static_cast<Pending*>(stream->data);
  if (nread < 0) {
    // The client left (or half-closed: it will not read an answer either),
    // or, after an answer, closed as it should.
    if (p->state_ == State::kWaiting) ++p->listener_->stats_.client_gone;
    p->closeNow();
    return;
  }
  if (nread > 0) p->onRead(static_cast<size_t>(nread));
}

void Pending::onRead(size_t n) {
  if (state_ == State::kWaiting) {
    extra_ += n;
    return;
  }
  if (state_ != State::kReading) return;  // answering: discarded
  uint32_t from = len_;
  len_ += static_cast<uint32_t>(n);
  size_t max = listener_->options_.max_head_bytes;
  if (!requestHeadDecidable(buf_, len_, from)) {
    if (len_ >= max) answerBadHead(RequestHeadStatus::kHeadTooLarge);
    return;
  }
  RequestHead& head = listener_->scratch_;
  RequestHeadStatus st = parseRequestHead(buf_, len_, &head);
  if (st == RequestHeadStatus::kIncomplete) {
    if (len_ >= max) answerBadHead(RequestHeadStatus::kHeadTooLarge);
    return;
  }
  if (st != RequestHeadStatus::kOk) {
    answerBadHead(st);
    return;
  }
  extra_ = len_ - head.head_bytes;
  state_ = State::kWaiting;
  listener_->schedule(this);
  ++listener_->stats_.requests;
  id_ = listener_->ctx_->addRequest(this);
  listener_->ctx_->notifyRequest(id_, listener_->id_);
}

void Pending::closeNow() {
  if (state_ == State::kClosing) return;
  state_ = State::kClosing;
  if (id_ != 0) listener_->ctx_->removeRequest(id_);
  id_ = 0;
  listener_->unschedule(this);
  --listener_->stats_.pending;
  listener_->ctx_->closingHandle();
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), closeCb);
}

void Pending::closeCb(uv_handle_t* handle) {
  auto* p = static_cast<Pending*>(handle->data);
  Listener* l = p->listener_;
  LoopContext* ctx = l->ctx_;
  delete p;
  l->pendingFreed();   // may free the listener
  ctx->handleClosed();  // may free the context
}

// ---- Listener ---------------------------------------------------------

Listener::Listener(LoopContext* ctx, const ListenerOptions& options)
    : ctx_(ctx), options_(options) {
  if (options_.max_head_bytes < 16) options_.max_head_bytes = 16;
  if (options_.max_head_bytes > UINT32_MAX / 2) options_.max_head_bytes = UINT32_MAX / 2;
  tcp_.data = this;
  timer_.data = this;
}

namespace {

// SO_REUSEPORT on the handle's socket (made by uv_tcp_init_ex); UV_ENOTSUP
// where the platform has none.
int setReusePort(uv_tcp_t* tcp) {
#if defined(SO_REUSEPORT) && !defined(_WIN32)
  uv_os_fd_t fd;
  int err = uv_fileno(reinterpret_cast<uv_handle_t*>(tcp), &fd);
  if (err != 0) return err;
  int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0) return uv_translate_sys_error(errno);
  return 0;
#else
  (void)tcp;
  return UV_ENOTSUP;
#endif
}

}  // namespace

int Listener::open(LoopContext* ctx, std::string_view host, int port,
                   const ListenerOptions& options, Listener** out) {
  *out = nullptr;
  if (ctx == nullptr || ctx->destroying_) return UV_EINVAL;
  if (port < 0 || port > 65535) return UV_EINVAL;
  sockaddr_storage addr{};
  std::string h(host);
  if (uv_ip4_addr(h.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr)) != 0 &&
      uv_ip6_addr(h.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0) {
    return UV_EINVAL;
  }
  Listener* l = new (std::nothrow) Listener(ctx, options);
  if (l == nullptr) return UV_ENOMEM;
  // With reuse_port the socket is made first, to set SO_REUSEPORT before bind.
  int err = options.reuse_port ? uv_tcp_init_ex(ctx->loop(), &l->tcp_, addr.ss_family)
                               : uv_tcp_init(ctx->loop(), &l->tcp_);
  if (err != 0) {
    delete l;
    return err;
  }
  uv_timer_init(ctx->loop(), &l->timer_);
  uv_unref(reinterpret_cast<uv_handle_t*>(&l->timer_));  // pendings keep the loop alive
  l->handles_ = 2;
  if (options.reuse_port) err = setReusePort(&l->tcp_);
  if (err == 0) err = uv_tcp_bind(&l->tcp_, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (err == 0) {
    err = uv_listen(reinterpret_cast<uv_stream_t*>(&l->tcp_), options.backlog, connectionCb);
  }
  if (err != 0) {
    l->closed_ = true;
    for (uv_handle_t* hd : {reinterpret_cast<uv_handle_t*>(&l->tcp_),
                            reinterpret_cast<uv_handle_t*>(&l->timer_)}) {
      ctx->closingHandle();
      uv_close(hd, handleCloseCb);
    }
    return err;
  }
  l->id_ = ctx->addListener(l);
  *out = l;
  return 0;
}

int Listener::address(std::string* host, int* port) const {
  sockaddr_storage ss{};
  int len = sizeof(ss);
  int err = uv_tcp_getsockname(&tcp_, reinterpret_cast<sockaddr*>(&ss), &len);
  if (err != 0) return err;
  char name[64] = {0};
  if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    uv_ip6_name(a, name, sizeof(name));
    *port = ntohs(a->sin6_port);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    uv_ip4_name(a, name, sizeof(name));
    *port = ntohs(a->sin_port);
  }
  host->assign(name);
  return 0;
}

void Listener::setRef(bool ref) {
  if (closed_) return;
  auto* h = reinterpret_cast<uv_handle_t*>(&tcp_);
  if (ref) uv_ref(h);
  else uv_unref(h);
}

void Listener::close() {
  if (closed_) return;
  closed_ = true;
  ctx_->removeListener(id_);
  ctx_->closingHandle();
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), handleCloseCb);
  ctx_->closingHandle();
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), handleCloseCb);
  while (first_ != nullptr) first_->closeNow();  // unschedules it
}

void Listener::schedule(Pending* p) {
  unschedule(p);
  p->deadline_ms_ = ctx_->now() + options_.head_timeout_ms;
  p->prev_ = last_;
  p->next_ = nullptr;
  if (last_ != nullptr) last_->next_ = p;
  else first_ = p;
  last_ = p;
  if (!closed_ && !uv_is_active(reinterpret_cast<uv_handle_t*>(&timer_))) {
    uv_timer_start(&timer_, timerCb, options_.head_timeout_ms, 0);
  }
}

void Listener::unschedule(Pending* p) {
  if (p->prev_ != nullptr) p->prev_->next_ = p->next_;
  else if (first_ == p) first_ = p->next_;
  if (p->next_ != nullptr) p->next_->prev_ = p->prev_;
  else if (last_ == p) last_ = p->prev_;
  p->prev_ = p->next_ = nullptr;
}

// Closes what is due (the list is in deadline order), then sleeps until the
// next deadline.
void Listener::timerCb(uv_timer_t* handle) {
  auto* l = static_cast<Listener*>(handle->data);
  uint64_t now = l->ctx_->now();
  while (l->first_ != nullptr && l->first_->deadline_ms_ <= now) {
    Pending* p = l->first_;
    if (p->state_ == Pending::State::kReading) ++l->stats_.head_timeouts;
    if (p->state_ == Pending::State::kWaiting) ++l->stats_.answer_timeouts;
    p->closeNow();
  }
  if (l->first_ != nullptr && !l->closed_) {
    uv_timer_start(&l->timer_, timerCb, l->first_->deadline_ms_ - now, 0);
  }
}

void Listener::connectionCb(uv_stream_t* server, int status) {
  auto* l = static_cast<Listener*>(server->data);
  if (status < 0) {
    ++l->stats_.accept_errors;
    return;
  }
  ++l->stats_.accepted;
  uv_loop_t* loop = l->ctx_->loop();
  if (l->stats_.pending >= l->options_.max_pending) {
    // Accepted and closed at once: libuv stops accepting until we do.
    auto* t = new (std::nothrow) uv_tcp_t;
    if (t == nullptr) return;
    uv_tcp_init(loop, t);
    t->data = l->ctx_;
    uv_accept(server, reinterpret_cast<uv_stream_t*>(t));
    ++l->stats_.over_cap;
    l->ctx_->closingHandle();
    uv_close(reinterpret_cast<uv_handle_t*>(t), overCapCloseCb);
    return;
  }
  auto* p = new (std::nothrow) Pending(l);
  if (p == nullptr) return;
  uv_tcp_init(loop, &p->tcp_);
  ++l->live_;
  ++l->stats_.pending;
  l->schedule(p);
  int err = uv_accept(server, reinterpret_cast<uv_stream_t*>(&p->tcp_));
  if (err == 0) {
    uv_tcp_nodelay(&p->tcp_, 1);  // carried over to the member's duplicate
    err = uv_read_start(reinterpret_cast<uv_stream_t*>(&p->tcp_), Pending::allocCb,
                        Pending::readCb);
  }
  if (err != 0) {
    ++l->stats_.accept_errors;
    p->closeNow();
  }
}

void Listener::overCapCloseCb(uv_handle_t* handle) {
  auto* ctx = static_cast<LoopContext*>(handle->data);
  delete reinterpret_cast<uv_tcp_t*>(handle);
  ctx->handleClosed();
}

void Listener::pendingFreed() {
  --live_;
  maybeFree();
}

void Listener::handleCloseCb(uv_handle_t* handle) {
  Listener* l = static_cast<Listener*>(handle->data);
  LoopContext* ctx = l->ctx_;
  --l->handles_;
  l->maybeFree();
  ctx->handleClosed();
}

void Listener::maybeFree() {
  if (closed_ && handles_ == 0 && live_ == 0) delete this;
}

}  // namespace sse
