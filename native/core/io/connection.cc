#include "core/io/connection.h"
#include "core/io/flush_trace.h"

#ifndef _WIN32
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#endif
#ifdef __linux__
#include <sys/epoll.h>
#endif

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <utility>

// Windows has no mmap (and no adoption): connections come from operator new.
#if defined(_WIN32) || defined(__SANITIZE_ADDRESS__)
#define SSE_PLAIN_ALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SSE_PLAIN_ALLOC 1
#endif
#endif

namespace sse {

namespace {
uint32_t clampMs(uint64_t ms) {
  return ms > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(ms);
}

#ifndef SSE_PLAIN_ALLOC
// Fixed-size slots carved from 256 KiB slabs mapped straight from the
// kernel: inside malloc's heap, long-lived slabs would sit at its top and
// keep it from giving back the memory of the embedder's per-request work.
// Freed slots are reused; slabs go back when the thread ends (a Worker's
// connections are all freed before its thread exits).
class ConnectionSlab {
 public:
  ~ConnectionSlab() {
    for (void* slab : slabs_) munmap(slab, kSlabBytes);
  }
  void* allocate() {
    if (free_ == nullptr && !grow()) return nullptr;
    FreeSlot* slot = free_;
    free_ = slot->next;
    return slot;
  }
  void release(void* p) {
    auto* slot = static_cast<FreeSlot*>(p);
    slot->next = free_;
    free_ = slot;
  }

 private:
  struct FreeSlot {
    FreeSlot* next;
  };
  static constexpr size_t kSlot = (sizeof(Connection) + 15) & ~size_t{15};
  static constexpr size_t kSlabBytes = 256 * 1024;
  bool grow() {
    void* slab = mmap(nullptr, kSlabBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (slab == MAP_FAILED) return false;
    slabs_.push_back(slab);
    char* base = static_cast<char*>(slab);
    for (size_t off = 0; off + kSlot <= kSlabBytes; off += kSlot) release(base + off);
    return true;
  }
  FreeSlot* free_ = nullptr;
  std::vector<void*> slabs_;
};

ConnectionSlab& slab() {
  thread_local ConnectionSlab s;
  return s;
}
#endif  // SSE_PLAIN_ALLOC
}  // namespace

#ifdef SSE_PLAIN_ALLOC
// Under AddressSanitizer every connection is its own allocation, so a use
// after free is caught rather than hidden by slot reuse.
void* Connection::operator new(size_t size, const std::nothrow_t&) noexcept {
  return ::operator new(size, std::nothrow);
}
void Connection::operator delete(void* p) noexcept { ::operator delete(p); }
#else
void* Connection::operator new(size_t, const std::nothrow_t&) noexcept {
  return slab().allocate();
}

void Connection::operator delete(void* p) noexcept {
  if (p != nullptr) slab().release(p);
}
#endif

Connection::Connection(LoopContext* ctx, MemberKind kind, const ConnectionOptions& options,
                       void* user_data)
    : HubMember(kind == MemberKind::kFunction),
      ctx_(ctx),
      user_data_(user_data),
      high_water_mark_(options.high_water_mark),
      max_buffered_(options.max_buffered),
      heartbeat_ms_(clampMs(options.heartbeat_ms)),
      idle_timeout_ms_(clampMs(options.idle_timeout_ms)),
      max_duration_ms_(clampMs(options.max_duration_ms)),
      slow_consumer_ms_(clampMs(options.slow_consumer_ms)),
      kind_(kind),
      policy_(options.policy) {
  opened_ms_ = last_write_ms_ = last_event_ms_ = progress_ms_ = ctx->now();
  tcp_.data = this;
  timer_.owner = this;
}

Connection::~Connection() = default;

// Opens the duplicate of `fd` as this member's socket and starts reading.
// On failure nothing is left open except a handle that must be closed
// (state_ tells: kClosing when the caller must wait for failedAdoptCloseCb).
int Connection::openSocket(int fd) {
#ifdef _WIN32
  // Adoption duplicates a POSIX fd; on Windows every stream keeps Node's
  // socket and writes through the embedder's sink.
  (void)fd;
  return UV_ENOTSUP;
#else
  int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return uv_translate_sys_error(errno);
#ifdef __linux__
  // libuv (1.46 with io_uring) may close Node's fd before deleting it from
  // epoll, leaving a registration that would fire for our duplicate.
  // ENOENT (not registered, e.g. a private loop) is harmless.
  epoll_ctl(uv_backend_fd(ctx_->loop()), EPOLL_CTL_DEL, fd, nullptr);
#endif
  int err = uv_tcp_init(ctx_->loop(), &tcp_);
  if (err != 0) {
    ::close(dup);
    return err;
  }
  err = uv_tcp_open(&tcp_, dup);
  if (err != 0) {
    ::close(dup);  // not owned by the handle
  } else {
    err = uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), allocCb, readCb);
  }
  if (err != 0) {
    // The handle was initialised: it must be closed, on a later turn, and
    // this member may not be freed before (see LoopContext::release).
    handle_pending_ = true;
    ctx_->closingHandle();
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), failedAdoptCloseCb);
    return err;
  }
  kind_ = MemberKind::kSocket;
  return 0;
#endif  // _WIN32
}

int Connection::adopt(LoopContext* ctx, int fd,
                      const ConnectionOptions& options, BufferRef head,
                      void* user_data, Connection** out) {
  if (out != nullptr) *out = nullptr;
  if (ctx == nullptr || ctx->destroying_) return UV_EINVAL;
  Connection* c = createExternal(ctx, options, std::string_view(), user_data);
  if (c == nullptr) return UV_ENOMEM;
  int err = c->adoptSocket(fd, std::move(head));
  if (err != 0) {
    c->finish(err);  // never reported: the caller gets the error instead
    return err;
  }
  if (out != nullptr) *out = c;
  return 0;
}

Connection* Connection::createExternal(LoopContext* ctx, const ConnectionOptions& options,
                                       std::string_view address, void* user_data) {
  if (ctx == nullptr || ctx->destroying_) return nullptr;
  Connection* c = new (std::nothrow) Connection(ctx, MemberKind::kExternal, options, user_data);
  if (c == nullptr) return nullptr;
  ctx->link(c);
  if (!address.empty()) c->address_ = ctx->holdAddress(address);
  ctx->noteTimings(c->heartbeat_ms_, c->idle_timeout_ms_, c->max_duration_ms_,
                   c->slow_consumer_ms_);
  c->schedule(c->opened_ms_);
  return c;
}

Connection* Connection::createFunction(LoopContext* ctx, void* user_data) {
  if (ctx == nullptr || ctx->destroying_) return nullptr;
  ConnectionOptions none;
  none.heartbeat_ms = 0;
  Connection* c = new (std::nothrow) Connection(ctx, MemberKind::kFunction, none, user_data);
  if (c == nullptr) return nullptr;
  ctx->link(c);
  return c;
}

int Connection::adoptSocket(int fd, BufferRef head) {
  if (kind_ != MemberKind::kExternal || deliverable_ || state_ != State::kOpen) return UV_EINVAL;
  SharedBuffer* h = head.release();
  if (h != nullptr && h->size() == 0) {
    h->unref();
    h = nullptr;
  }
  // Room for the head first: after the socket is open nothing may fail.
  if (h != nullptr && !queue_.pushFront(h)) {
    h->unref();
    return UV_ENOMEM;
  }
  int err = openSocket(fd);
  if (err != 0) {
    if (h != nullptr) queue_.consume(h->size());  // take the head back off
    return err;
  }
  ++ctx_->stats_.connections_adopted;
  deliverable_ = true;
  if (!queue_.empty()) ctx_->markDirty(this);
  return 0;
}

void Connection::attach() {
  if (kind_ != MemberKind::kExternal || deliverable_) return;
  deliverable_ = true;
  if (!queue_.empty() || state_ == State::kDraining) ctx_->markDirty(this);
}

SendResult Connection::send(BufferRef frame) {
  uint32_t charge = frame.size() > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(frame.size());
  return send(std::move(frame), charge);
}

SendResult Connection::send(BufferRef frame, uint32_t charge) {
  // Broadcasts of this turn not yet queued on it go first: order is kept.
  if (!hubKeys().empty()) ctx_->hub_.sealFor(this);
  SharedBuffer* buf = frame.release();
  if (buf == nullptr) {
    if (state_ != State::kOpen) return SendResult::kClosed;
    return queue_.bytes() > high_water_mark_ ? SendResult::kBackpressure
                                             : SendResult::kSuccess;
  }
  return enqueue(buf, 1, charge);
}

SendResult Connection::sendCopy(const char* data, size_t size) {
  if (!hubKeys().empty()) ctx_->hub_.sealFor(this);
  if (state_ != State::kOpen) return SendResult::kClosed;
  SharedBuffer* buf = SharedBuffer::copyOf(data, size);
  if (buf == nullptr) {
    ++ctx_->stats_.drops;
    return SendResult::kDropped;
  }
  return enqueue(buf, 1, static_cast<uint32_t>(size));
}

void Connection::hubEnqueueBatch(const BufferRef& joined, const std::vector<BufferRef>& frames,
                                 uint32_t sharers) {
  if (state_ != State::kOpen || kind_ == MemberKind::kFunction) return;
  if (sharers == 0) sharers = 1;
  auto share = [sharers](size_t size) {
    size_t c = (size + sharers - 1) / sharers;
    return c > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(c);
  };
  if (joined) {
    enqueue(joined.share().release(), static_cast<uint32_t>(frames.size()), share(joined.size()));
    return;
  }
  for (const BufferRef& f : frames) {
    if (enqueue(f.share().release(), 1, share(f.size())) == SendResult::kClosed) return;
  }
}

// Takes the reference `buf` in every case. Never judges the member: a
// turn's sends are queued whatever their size, and the flush that follows
// tries to write them first (see judge()).
SendResult Connection::enqueue(SharedBuffer* buf, uint32_t events, uint32_t charge) {
  if (state_ != State::kOpen || kind_ == MemberKind::kFunction) {
    buf->unref();
    return SendResult::kClosed;
  }
  if (stalled_) {  // kDrop, judged slow: nothing more until it takes bytes
    buf->unref();
    ++ctx_->stats_.drops;
    want_drain_ = true;
    return SendResult::kDropped;
  }
  size_t n = buf->size();
  bool was_above = queue_.bytes() > high_water_mark_;
  if (n == 0) {
    buf->unref();
  } else if (!queue_.push(buf, charge)) {
    buf->unref();
    ++ctx_->stats_.drops;
    want_drain_ = true;
    if (queue_.empty()) maybeDrain();
    return SendResult::kDropped;
  } else if (kind_ == MemberKind::kSocket || deliverable_) {
    ctx_->markDirty(this);
  }
  uint64_t now = ctx_->now();
  last_write_ms_ = now;
  if (events != 0) {
    last_event_ms_ = now;
    ctx_->stats_.events_sent += events;
    events_ += events;
    if (first_event_ms_ == 0) {
      first_event_ms_ = now == 0 ? 1 : now;
      ctx_->stats_.time_to_first_event.observe(now - opened_ms_);
    }
  }
  if (queue_.bytes() > high_water_mark_) {
    want_drain_ = true;
    if (!was_above) {
      // The slow-consumer clock starts when the queue rises above the mark.
      progress_ms_ = now;
      if (slow_consumer_ms_ != 0) {
        uint64_t due = now + slow_consumer_ms_;
        if (!timer_.linked || due < timer_.due_ms) ctx_->wheel_.schedule(&timer_, due);
      }
    }
    return SendResult::kBackpressure;
  }
  return SendResult::kSuccess;
}

void Connection::progress() {
  progressed_ = true;
  stalled_ = false;
  progress_ms_ = ctx_->now();
}

void Connection::judge() {
  if (kind_ == MemberKind::kSocket && write_req_ != nullptr) {
    // A uv_write in flight that libuv partly wrote is progress too.
    size_t queued = uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(&tcp_));
    if (queued < uv_queued_) progress();
    uv_queued_ = queued;
  }
  // Flushes run in the check phase and in the next turn's prepare phase: a
  // verdict needs a poll phase between it and the previous one, or the
  // member never had the chance to take anything.
  if (ctx_->polls() == judged_polls_) return;
  judged_polls_ = ctx_->polls();
  if (progressed_) {
    progressed_ = false;
    return;
  }
  if (state_ == State::kOpen && !stalled_ && queue_.pendingCharge() > max_buffered_) slow();
}

void Connection::slow() {
  if (policy_ == SlowConsumerPolicy::kDrop) {
    stalled_ = true;
    want_drain_ = true;
    return;
  }
  ++ctx_->stats_.slow_consumer_closes;
  closeWith(false, UV_ENOBUFS);
}

void Connection::flush() {
  if (!hubKeys().empty()) ctx_->hub_.sealFor(this);
  if (state_ == State::kOpen || state_ == State::kDraining) flushNow();
}

void Connection::close(bool graceful) { closeWith(graceful, 0); }

void Connection::closeWith(bool graceful, int status) {
  if (state_ >= State::kClosing) return;
  if (!hubKeys().empty()) {
    // Broadcast to it before a graceful close: still delivered. Then no
    // broadcast reaches a closing member.
    if (graceful && state_ == State::kOpen) ctx_->hub_.sealFor(this);
    ctx_->hub_.leaveAll(this);
    if (state_ >= State::kClosing) return;  // that batch closed it (kClose policy)
  }
  if (graceful && kind_ != MemberKind::kFunction) {
    if (state_ != State::kOpen) return;
    state_ = State::kDraining;
    close_status_ = status;
    close_started_ms_ = ctx_->now();
    want_drain_ = false;
    schedule(close_started_ms_);
    // The flush writes the rest, then shuts down (a held external member
    // waits for a sink to be attached, within the drain limit).
    if (kind_ == MemberKind::kSocket || deliverable_) ctx_->markDirty(this);
    return;
  }
  if (close_status_ == 0) close_status_ = status;
  if (kind_ != MemberKind::kSocket) {
    finish(close_status_);
    return;
  }
  state_ = State::kClosing;
  ctx_->wheel_.cancel(&timer_);
  ctx_->closingHandle();
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), closeCb);
}

void Connection::finish(int status) {
  if (state_ == State::kClosed) return;
  if (!hubKeys().empty()) ctx_->hub_.leaveAll(this);
  close_status_ = status;
  closed_ms_ = ctx_->now();
  if (kind_ != MemberKind::kFunction && !ctx_->destroying_) {
    LoopStats& st = ctx_->stats_;
    st.stream_duration.observe(closed_ms_ - opened_ms_);
    if (status == 0) {
      ++st.closed_by_server;
    } else if (status == UV_EOF) {
      ++st.closed_client_gone;
    } else if (status == UV_ENOBUFS) {
      ++st.closed_slow;
    } else if (status == UV_ETIMEDOUT) {
      ++st.closed_timeout;
    } else {
      ++st.closed_error;
    }
  }
  state_ = State::kClosed;
  queue_.clear();
  handed_ = false;
  ctx_->wheel_.cancel(&timer_);
  ctx_->unlink(this);
  if (ctx_->destroying_) {
    ctx_->release(this);
  } else {
    ctx_->notify(this, Notification::kClose, close_status_);  // frees later
  }
}

void Connection::schedule(uint64_t now) {
  uint64_t due = UINT64_MAX;
  auto at = [&](uint64_t from, uint64_t ms) {
    if (ms != 0 && from + ms < due) due = from + ms;
  };
  if (state_ == State::kOpen) {
    at(opened_ms_, max_duration_ms_);
    at(last_event_ms_, idle_timeout_ms_);
    // A heartbeat is due after heartbeat_ms unwritten; while the queue is
    // not empty, check again a period later.
    at(queue_.empty() ? last_write_ms_ : now, heartbeat_ms_);
    if (queue_.bytes() > high_water_mark_ && !stalled_) at(progress_ms_, slow_consumer_ms_);
  } else if (state_ == State::kDraining || state_ == State::kShutdown) {
    at(close_started_ms_, kDrainTimeoutMs);
  }
  if (due == UINT64_MAX) {
    ctx_->wheel_.cancel(&timer_);
  } else {
    ctx_->wheel_.schedule(&timer_, due);
  }
}

// Called by the LoopContext's timer wheel when this member's earliest
// deadline passed. Writes since then moved the deadlines on: each is checked
// against the clock, and the next one scheduled.
void Connection::tick(uint64_t now) {
  if (state_ == State::kOpen && slow_consumer_ms_ != 0 && !stalled_ &&
      queue_.bytes() > high_water_mark_ && now - progress_ms_ >= slow_consumer_ms_) {
    slow();  // closes it, or stalls it (kDrop)
  }
  if (state_ == State::kOpen) {
    if (max_duration_ms_ != 0 && now - opened_ms_ >= max_duration_ms_) {
      closeWith(true, UV_ETIMEDOUT);
    } else if (idle_timeout_ms_ != 0 &&
               now - last_event_ms_ >= idle_timeout_ms_) {
      closeWith(true, UV_ETIMEDOUT);
    } else if (heartbeat_ms_ != 0 && queue_.empty() &&
               now - last_write_ms_ >= heartbeat_ms_) {
      SendResult r = enqueue(ctx_->keepalive_.share().release(), 0, 0);
      if (r == SendResult::kSuccess || r == SendResult::kBackpressure) {
        ++ctx_->stats_.heartbeats_sent;
      }
    }
  } else if (state_ == State::kDraining || state_ == State::kShutdown) {
    // A client that stops reading must not hold a graceful close forever.
    if (now - close_started_ms_ >= kDrainTimeoutMs) {
      closeWith(false, UV_ETIMEDOUT);
      return;
    }
  }
  if (state_ < State::kClosing) schedule(now);
}

void Connection::allocCb(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  LoopContext* ctx = static_cast<Connection*>(handle->data)->ctx_;
  *buf = uv_buf_init(ctx->read_buffer_, sizeof(ctx->read_buffer_));
}

// Whatever the client sends after its request is discarded; only the end of
// the stream matters (EOF, also after a half-close, or an error).
void Connection::readCb(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
  if (nread < 0) {
    static_cast<Connection*>(stream->data)
        ->closeWith(false, static_cast<int>(nread));
  }
}

void Connection::closeCb(uv_handle_t* handle) {
  Connection* c = static_cast<Connection*>(handle->data);
  LoopContext* ctx = c->ctx_;
  c->finish(c->close_status_);  // may free c while the context is destroyed
  ctx->handleClosed();          // may free ctx
}

// The handle of a socket that could not be opened: the member itself lives
// on (held, or finished by adopt()) and is freed only once this ran.
void Connection::failedAdoptCloseCb(uv_handle_t* handle) {
  Connection* c = static_cast<Connection*>(handle->data);
  LoopContext* ctx = c->ctx_;
  c->handle_pending_ = false;
  if (c->free_pending_) delete c;
  ctx->handleClosed();
}

// --- Writing ---------------------------------------------------------------

// Cork: everything queued during the turn leaves in one writev; what the
// kernel refuses goes to one uv_write, and nothing else is written until
// its callback (so bytes never reorder).
void Connection::flushNow() {
  if (state_ != State::kOpen && state_ != State::kDraining) return;
  if (kind_ != MemberKind::kSocket) {
    handOff();
    return;
  }
  if (ring_pending_) return;  // its send is in the ring: ringDone follows
  if (write_req_ != nullptr) {  // writeCb marks us dirty again
    if (state_ == State::kOpen) judge();
    return;
  }
  writeNow();
  afterWrite();
}

// Writes with uv_try_write until the queue is empty, the kernel refuses
// bytes (the rest goes to writeRest) or the write fails (closed).
void Connection::writeNow() {
  while (!queue_.empty()) {
    uv_buf_t bufs[kMaxIov];
    size_t total;
    uint32_t n = queue_.fill(bufs, kMaxIov, &total);
    SSE_TRACE_DECL(t_write);
    int r = uv_try_write(reinterpret_cast<uv_stream_t*>(&tcp_), bufs, n);
    SSE_TRACE_WRITE(t_write);
    if (!wrote(r, total)) return;
  }
}

// One write attempt of `total` bytes returned `r` (bytes taken, or a
// negative UV_E* code): true when all were taken and more may be written.
bool Connection::wrote(int r, size_t total) {
  ++ctx_->stats_.try_writes;
  if (r == UV_EAGAIN) r = 0;
  if (r < 0) {
    closeWith(false, r);
    return false;
  }
  if (r > 0) progress();
  ctx_->stats_.bytes_written += static_cast<size_t>(r);
  bytes_ += static_cast<size_t>(r);
  queue_.consume(static_cast<size_t>(r));
  if (static_cast<size_t>(r) < total) {
    writeRest();
    return false;
  }
  return true;
}

void Connection::afterWrite() {
  if (state_ == State::kOpen) judge();
  if (state_ == State::kOpen) {
    maybeDrain();
  } else if (state_ == State::kDraining && queue_.allInflight()) {
    startShutdown();  // libuv runs it after the write in flight
  }
}

// The batched flush (LoopContext::flushDirty with a SendRing): a member
// whose flushNow would write now gives its first writev to the ring
// instead; ringDone then does what flushNow does with its result.
bool Connection::ringWants() const {
  return kind_ == MemberKind::kSocket && (state_ == State::kOpen || state_ == State::kDraining) &&
         write_req_ == nullptr && !ring_pending_ && !queue_.empty();
}

void Connection::ringDone(int result, size_t total) {
  ring_pending_ = false;
  // Only this member closes itself, and not while its send was out.
  if (state_ != State::kOpen && state_ != State::kDraining) return;
  if (wrote(result, total)) writeNow();  // more than one writev's worth
  afterWrite();
}

// The ring could not take it: the usual way.
void Connection::ringFallback() {
  ring_pending_ = false;
  flushNow();
}

// External: what is queued goes to the embedder as one buffer (a share of
// the frame itself when it is the only one, else one copy of them all), and
// its slots count as in flight until acknowledge(). One buffer at a time:
// bytes never reorder and the queue measures what the sink has not taken.
void Connection::handOff() {
  if (!deliverable_) return;
  if (handed_) {  // acknowledge() marks us dirty again
    if (state_ == State::kOpen) judge();
    return;
  }
  if (queue_.empty()) {
    if (state_ == State::kDraining) finish(close_status_);
    return;
  }
  uint32_t n = queue_.slots();
  size_t offset;
  SharedBuffer* first = queue_.frontBuffer(&offset);
  SharedBuffer* out;
  if (n == 1 && offset == 0) {
    first->ref();  // the queue keeps its own reference
    out = first;
  } else {
    out = SharedBuffer::create(queue_.bytes());
    if (out == nullptr) {
      closeWith(false, UV_ENOMEM);
      return;
    }
    queue_.copyPending(out->data());
  }
  queue_.markInflight(n);
  handed_ = true;
  ++ctx_->stats_.handoffs;
  ctx_->notifyData(this, out);
}

void Connection::acknowledge() {
  if (!handed_) return;
  handed_ = false;
  progress();
  size_t written = queue_.popInflight();
  ctx_->stats_.bytes_written += written;
  bytes_ += written;
  if (state_ == State::kDraining || (state_ == State::kOpen && !queue_.empty())) {
    ctx_->markDirty(this);
  }
  if (state_ == State::kOpen) maybeDrain();
}

// Everything queued goes to one uv_write (libuv copies the iovecs and
// writes them as the socket takes them), so what waits behind a write in
// flight is only what was sent after it started.
void Connection::writeRest() {
  uv_buf_t stack[kMaxIov];
  std::unique_ptr<uv_buf_t[]> heap;
  uv_buf_t* bufs = stack;
  uint32_t max = kMaxIov;
  if (queue_.slots() > kMaxIov) {
    heap.reset(new (std::nothrow) uv_buf_t[queue_.slots()]);
    if (heap) {
      bufs = heap.get();
      max = queue_.slots();
    }
  }
  size_t total;
  uint32_t n = queue_.fill(bufs, max, &total);
  uv_write_t* req = new (std::nothrow) uv_write_t;
  if (req == nullptr) {
    closeWith(false, UV_ENOMEM);
    return;
  }
  req->data = this;
  ++ctx_->stats_.queued_writes;
  int err =
      uv_write(req, reinterpret_cast<uv_stream_t*>(&tcp_), bufs, n, writeCb);
  if (err != 0) {
    delete req;
    closeWith(false, err);
    return;
  }
  write_req_ = req;
  queue_.markInflight(n);
  uv_queued_ = uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(&tcp_));
}

void Connection::writeCb(uv_write_t* req, int status) {
  Connection* c = static_cast<Connection*>(req->data);
  delete req;
  c->write_req_ = nullptr;
  // UV_ECANCELED: uv_close is under way and closeCb releases the queue.
  if (status == UV_ECANCELED) return;
  if (status < 0) {
    c->closeWith(false, status);
    return;
  }
  c->progress();
  size_t written = c->queue_.popInflight();
  c->ctx_->stats_.bytes_written += written;
  c->bytes_ += written;
  if (c->state_ == State::kDraining || !c->queue_.empty()) {
    c->ctx_->markDirty(c);
  }
  if (c->state_ == State::kOpen) c->maybeDrain();
}

void Connection::maybeDrain() {
  if (want_drain_ && queue_.bytes() <= high_water_mark_) {
    want_drain_ = false;
    ctx_->notify(this, Notification::kDrain, 0);
  }
}

void Connection::startShutdown() {
  uv_shutdown_t* req = new (std::nothrow) uv_shutdown_t;
  if (req == nullptr) {
    closeWith(false, UV_ENOMEM);
    return;
  }
  req->data = this;
  int err = uv_shutdown(req, reinterpret_cast<uv_stream_t*>(&tcp_), shutdownCb);
  if (err != 0) {
    delete req;
    closeWith(false, err);
    return;
  }
  state_ = State::kShutdown;
}

// The FIN is out (or failed): now the handle may close without losing bytes.
void Connection::shutdownCb(uv_shutdown_t* req, int status) {
  Connection* c = static_cast<Connection*>(req->data);
  delete req;
  if (status == UV_ECANCELED) return;  // uv_close already under way
  c->closeWith(false, status);
}

}  // namespace sse
