#include "core/io/loop_context.h"

#include <algorithm>
#include <cstddef>
#include <new>
#include <utility>

#include "core/io/connection.h"
#include "core/io/flush_trace.h"
#include "core/io/listener.h"
#include "core/io/send_ring.h"

namespace sse {

namespace {
constexpr char kKeepalive[] = ": keepalive\n\n";
// Rounds of flush-then-deliver per prepare callback: an observer that sends
// from onNotifications gets its frames flushed in the same turn.
constexpr int kMaxRounds = 8;

// Every live LoopContext of the process, for publish(). A context joins at
// create() and leaves at destroy(), under the lock, before its async handle
// closes: a publisher never touches a context that is going away.
std::mutex& busMutex() {
  static std::mutex m;
  return m;
}
std::vector<LoopContext*>& bus() {
  static std::vector<LoopContext*> contexts;
  return contexts;
}
}  // namespace

Message PostedMessage::view() const {
  Message m;
  m.event = event;
  m.data = data;
  m.id = id;
  m.comment = comment;
  m.retry = retry;
  m.has_event = has_event;
  m.has_data = has_data;
  m.has_id = has_id;
  m.has_comment = has_comment;
  m.has_retry = has_retry;
  return m;
}

LoopContext* LoopContext::create(uv_loop_t* loop, LoopObserver* observer) {
  SharedBuffer* keepalive =
      SharedBuffer::copyOf(kKeepalive, sizeof(kKeepalive) - 1);
  if (keepalive == nullptr) return nullptr;
  LoopContext* ctx = new (std::nothrow) LoopContext(loop, observer);
  if (ctx == nullptr) {
    keepalive->unref();
    return nullptr;
  }
  ctx->keepalive_ = BufferRef(keepalive);
#ifdef SSE_HAVE_LIBURING
  if (send_ring::wanted()) ctx->ring_ = SendRing::create();  // null: writev
#endif
  std::lock_guard<std::mutex> lock(busMutex());
  bus().push_back(ctx);
  return ctx;
}

size_t LoopContext::publish(std::string_view key, const Message& msg) {
  std::lock_guard<std::mutex> lock(busMutex());
  size_t posted = 0;
  for (LoopContext* other : bus()) {
    if (other == this) continue;
    PostedMessage p;
    p.key.assign(key);
    p.event.assign(msg.event);
    p.data.assign(msg.data);
    p.id.assign(msg.id);
    p.comment.assign(msg.comment);
    p.retry = msg.retry;
    p.has_event = msg.has_event;
    p.has_data = msg.has_data;
    p.has_id = msg.has_id;
    p.has_comment = msg.has_comment;
    p.has_retry = msg.has_retry;
    {
      std::lock_guard<std::mutex> inbox(other->inbox_mutex_);
      other->inbox_.push_back(std::move(p));
    }
    uv_async_send(&other->async_);
    ++posted;
  }
  return posted;
}

void LoopContext::asyncCb(uv_async_t* handle) {
  auto* self = static_cast<LoopContext*>(handle->data);
  std::vector<PostedMessage> batch;
  {
    std::lock_guard<std::mutex> lock(self->inbox_mutex_);
    batch.swap(self->inbox_);
  }
  for (const PostedMessage& p : batch) {
    if (self->destroying_) return;
    Message m = p.view();
    BroadcastResult r;
    std::vector<HubMember*>& functions = self->scratch_functions_;
    functions.clear();
    if (self->hub_.broadcast(p.key, m, &r, &functions) != FrameStatus::kOk) continue;
    if (self->observer_ != nullptr && !functions.empty()) {
      self->observer_->onRemoteBroadcast(p.key, m, functions);
    }
  }
}

FrameStatus LoopContext::broadcast(std::string_view key, const Message& msg,
                                   BroadcastResult* result, std::vector<HubMember*>* functions) {
  FrameStatus st = hub_.broadcast(key, msg, result, functions);
  if (st == FrameStatus::kOk) publish(key, msg);
  return st;
}

Status LoopContext::checkLimits(std::string_view address, const std::vector<std::string>& keys) {
  Status st = Status::kOk;
  if (stats_.connections_open >= limits_.max_connections) {
    st = Status::kLimitConnections;
  } else if (limits_.max_per_key != UINT64_MAX) {
    for (const std::string& k : keys) {
      if (hub_.memberCount(k) >= limits_.max_per_key) {
        st = Status::kLimitPerKey;
        break;
      }
    }
  }
  if (st == Status::kOk && !address.empty() && limits_.max_per_address != UINT64_MAX &&
      addressCount(address) >= limits_.max_per_address) {
    st = Status::kLimitPerAddress;
  }
  if (st != Status::kOk) ++stats_.refused;
  return st;
}

size_t LoopContext::addressCount(std::string_view address) const {
  auto it = per_address_.find(std::string(address));
  return it == per_address_.end() ? 0 : it->second;
}

const std::string* LoopContext::holdAddress(std::string_view address) {
  auto it = per_address_.try_emplace(std::string(address), 0).first;
  ++it->second;
  return &it->first;
}

void LoopContext::releaseAddress(const std::string* address) {
  auto it = per_address_.find(*address);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

LoopContext::LoopContext(uv_loop_t* loop, LoopObserver* observer)
    : loop_(loop), observer_(observer), wheel_(kMaxTickMs, uv_now(loop)) {
  // Neither init can fail on an initialised loop.
  uv_prepare_init(loop, &prepare_);
  prepare_.data = this;
  uv_check_init(loop, &check_);
  check_.data = this;
  uv_timer_init(loop, &timer_);
  timer_.data = this;
  // The connections' own tcp handles keep the loop alive, not the timer.
  uv_unref(reinterpret_cast<uv_handle_t*>(&timer_));
  uv_async_init(loop, &async_, asyncCb);
  async_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&async_));
}

LoopContext::~LoopContext() {
#ifdef SSE_HAVE_LIBURING
  delete ring_;
#endif
}

// Over a copy: closing a member with no handle unlinks it at once.
void LoopContext::closeAll(bool graceful) {
  std::vector<Connection*> all;
  for (Connection* c = live_; c != nullptr; c = c->next_) {
    if (c->kind_ != MemberKind::kFunction) all.push_back(c);
  }
  for (Connection* c : all) c->close(graceful);
}

void LoopContext::forEach(void (*fn)(Connection*, void*), void* arg) {
  std::vector<Connection*> all;
  for (Connection* c = live_; c != nullptr; c = c->next_) {
    if (c->kind_ != MemberKind::kFunction) all.push_back(c);
  }
  for (Connection* c : all) {
    if (c->state_ < Connection::State::kClosed) fn(c, arg);
  }
}

void LoopContext::release(Connection* c) {
  if (c->handle_pending_) {
    c->free_pending_ = true;
  } else {
    delete c;
  }
}

void LoopContext::destroy(void (*done)(void*), void* arg) {
  if (destroying_) return;
  destroying_ = true;
  done_ = done;
  done_arg_ = arg;
  dirty_ = nullptr;
  // Connections already closed but not yet reported are freed unreported.
  for (const Notification& n : pending_) {
    if (n.kind == Notification::kClose) release(n.connection);
    if (n.data != nullptr) n.data->unref();
  }
  pending_.clear();
  // Listeners close their pendings; both count their handles as closing.
  std::vector<Listener*> listeners;
  for (const auto& entry : listeners_) listeners.push_back(entry.second);
  for (Listener* l : listeners) l->close();
  std::vector<Connection*> all;
  for (Connection* c = live_; c != nullptr; c = c->next_) all.push_back(c);
  for (Connection* c : all) {
    c->closeWith(false, UV_ECANCELED);  // no-op for those already closing
  }
  closingHandle();
  uv_close(reinterpret_cast<uv_handle_t*>(&prepare_), contextHandleCloseCb);
  closingHandle();
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), contextHandleCloseCb);
  closingHandle();
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), contextHandleCloseCb);
  {
    std::lock_guard<std::mutex> lock(busMutex());
    auto& contexts = bus();
    contexts.erase(std::remove(contexts.begin(), contexts.end(), this), contexts.end());
  }
  closingHandle();
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), contextHandleCloseCb);
}

Listener* LoopContext::listener(uint32_t id) const {
  auto it = listeners_.find(id);
  return it == listeners_.end() ? nullptr : it->second;
}

Pending* LoopContext::request(uint32_t id) const {
  auto it = requests_.find(id);
  return it == requests_.end() ? nullptr : it->second;
}

namespace {
// The next free id in 1..2^31-1 (ids travel in Int32Array records).
template <typename Map>
uint32_t nextId(const Map& map, uint32_t* next) {
  for (;;) {
    uint32_t id = *next;
    *next = id >= 0x7FFFFFFFu ? 1 : id + 1;
    if (map.find(id) == map.end()) return id;
  }
}
}  // namespace

uint32_t LoopContext::addListener(Listener* l) {
  uint32_t id = nextId(listeners_, &next_listener_id_);
  listeners_.emplace(id, l);
  return id;
}

void LoopContext::removeListener(uint32_t id) { listeners_.erase(id); }

uint32_t LoopContext::addRequest(Pending* p) {
  uint32_t id = nextId(requests_, &next_request_id_);
  requests_.emplace(id, p);
  return id;
}

void LoopContext::removeRequest(uint32_t id) { requests_.erase(id); }

void LoopContext::notifyRequest(uint32_t pending_id, uint32_t listener_id) {
  pending_.push_back(Notification{nullptr, reinterpret_cast<void*>(static_cast<uintptr_t>(pending_id)),
                                  Notification::kRequest, static_cast<int>(listener_id), nullptr});
  wake();
}

void LoopContext::link(Connection* c) {
  c->prev_ = nullptr;
  c->next_ = live_;
  if (live_ != nullptr) live_->prev_ = c;
  live_ = c;
  if (c->kind_ != MemberKind::kFunction) {
    ++stats_.connections_open;
    ++stats_.streams_opened;
  }
  startTimer();
}

void LoopContext::startTimer() {
  if (!destroying_ && !uv_is_active(reinterpret_cast<uv_handle_t*>(&timer_))) {
    uv_timer_start(&timer_, timerCb, tick_ms_, tick_ms_);
  }
}

void LoopContext::unlink(Connection* c) {
  if (c->prev_ != nullptr) c->prev_->next_ = c->next_;
  if (c->next_ != nullptr) c->next_->prev_ = c->prev_;
  if (live_ == c) live_ = c->next_;
  c->prev_ = c->next_ = nullptr;
  if (c->kind_ != MemberKind::kFunction) --stats_.connections_open;
  if (c->address_ != nullptr) {
    releaseAddress(c->address_);
    c->address_ = nullptr;
  }
  if (live_ == nullptr && !destroying_) uv_timer_stop(&timer_);
}

void LoopContext::markDirty(Connection* c) {
  if (c->dirty_ || destroying_) return;
  c->dirty_ = true;
  c->next_dirty_ = dirty_;
  dirty_ = c;
  wake();
}

void LoopContext::notify(Connection* c, Notification::Kind kind, int status) {
  pending_.push_back(Notification{c, c->user_data_, kind, status, nullptr});
  wake();
}

void LoopContext::notifyData(Connection* c, SharedBuffer* data) {
  pending_.push_back(Notification{c, c->user_data_, Notification::kData, 0, data});
  wake();
}

// The prepare and check handles are active (and so ref'd) only while there
// is a dirty connection or a pending notification: they keep the loop
// turning to deliver a kClose even when no tcp handle is left. A check
// handle started now runs before Node's own (setImmediate's): libuv runs the
// most recently started first.
void LoopContext::wake() {
  SSE_TRACE_WAKE();
  if (prepare_active_ || destroying_) return;
  prepare_active_ = true;
  uv_prepare_start(&prepare_, prepareCb);
  uv_check_start(&check_, checkCb);
}

void LoopContext::noteTimings(uint64_t heartbeat_ms, uint64_t idle_ms,
                              uint64_t max_ms, uint64_t slow_ms) {
  uint64_t tick = tick_ms_;
  for (uint64_t ms : {heartbeat_ms, idle_ms, max_ms, slow_ms}) {
    if (ms != 0) tick = std::min(tick, std::max<uint64_t>(1, ms / 2));
  }
  if (tick == tick_ms_) return;
  tick_ms_ = tick;
  wheel_.setResolution(tick_ms_);
  if (uv_is_active(reinterpret_cast<uv_handle_t*>(&timer_))) {
    uv_timer_start(&timer_, timerCb, tick_ms_, tick_ms_);
  }
}

void LoopContext::flushDirty() {
  Connection* list = std::exchange(dirty_, nullptr);
  while (list != nullptr) {
    Connection* c = list;
    list = c->next_dirty_;
    c->next_dirty_ = nullptr;
    c->dirty_ = false;
    SSE_TRACE_MEMBER();
#ifdef SSE_HAVE_LIBURING
    if (ringPrepare(c)) continue;
#endif
    c->flushNow();
  }
#ifdef SSE_HAVE_LIBURING
  submitRing();
#endif
}

#ifdef SSE_HAVE_LIBURING
// A socket member that would write now gets its send prepared in the ring
// instead (true); one io_uring_enter then submits them all (a batch per
// kEntries members) and each result goes back to its member. The others
// (no ring, external, a write in flight, draining with nothing left) are
// flushed on the spot by the caller: none of that touches another member,
// so a member whose send is in the ring stays as it was until its result.
bool LoopContext::ringPrepare(Connection* c) {
  if (ring_ == nullptr || !c->ringWants()) return false;
  uv_buf_t bufs[Connection::kMaxIov];
  size_t total;
  uint32_t n = c->queue_.fill(bufs, Connection::kMaxIov, &total);
  if (!ring_->fits(n)) submitRing();
  if (ring_ == nullptr) return false;
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&c->tcp_), &fd) != 0) return false;
  c->ring_pending_ = true;
  ring_->prepare(fd, bufs, n, total, c);
  return true;
}

void LoopContext::submitRing() {
  if (ring_ == nullptr || ring_->prepared() == 0) return;
  stats_.ring_sends += ring_->prepared();
  SSE_TRACE_DECL(t_write);
  bool ok = ring_->submit(
      [](void* tag, int result, size_t total, void*) {
        static_cast<Connection*>(tag)->ringDone(result, total);
      },
      [](void* tag, void*) { static_cast<Connection*>(tag)->ringFallback(); }, nullptr,
      &stats_.ring_enters, &stats_.ring_late);
  SSE_TRACE_WRITE(t_write);
  if (!ok) {
    // The kernel refused the ring (e.g. a seccomp filter on io_uring_enter):
    // from now on the flush writes as without it.
    delete ring_;
    ring_ = nullptr;
  }
}
#endif

void LoopContext::deliver() {
  if (pending_.empty()) return;
  delivering_.swap(pending_);
  ++stats_.notification_batches;
  if (observer_ != nullptr) {
    observer_->onNotifications(delivering_.data(), delivering_.size());
  }
  for (const Notification& n : delivering_) {
    if (n.data != nullptr) n.data->unref();
    if (n.kind == Notification::kClose) release(n.connection);
  }
  delivering_.clear();
}

void LoopContext::prepareCb(uv_prepare_t* handle) {
  auto* ctx = static_cast<LoopContext*>(handle->data);
  ctx->runFlush();
  ++ctx->polls_;  // the poll phase comes next (the context is freed only
                  // from a close callback, never during the flush)
}

void LoopContext::checkCb(uv_check_t* handle) {
  static_cast<LoopContext*>(handle->data)->runFlush();
}

void LoopContext::runFlush() {
  if (!prepare_active_ || destroying_) return;
  for (int round = 0; round < kMaxRounds; ++round) {
    SSE_TRACE_DECL(t_start);
    hub_.sealAll();  // this turn's broadcasts join the members' queues
    SSE_TRACE_DECL(t_sealed);
    flushDirty();
    SSE_TRACE_PASS(t_start, t_sealed, flush_trace::now());
    deliver();
    if (destroying_) return;
    if (dirty_ == nullptr && pending_.empty() && !hub_.hasDue()) {
      prepare_active_ = false;
      uv_prepare_stop(&prepare_);
      uv_check_stop(&check_);
      return;
    }
  }
  // Still busy after kMaxRounds: stay active and continue in the next phase.
}

// The tick is half the smallest timing any connection asked for, capped at
// kMaxTickMs; each tick costs what the wheel finds due, not a scan of every
// connection.
void LoopContext::timerCb(uv_timer_t* handle) {
  LoopContext* self = static_cast<LoopContext*>(handle->data);
  uint64_t before = self->wheel_.visited();
  self->wheel_.advance(uv_now(self->loop_), fireCb, self);
  self->stats_.timer_visits += self->wheel_.visited() - before;
}

void LoopContext::fireCb(TimerEntry* e, void* arg) {
  auto* self = static_cast<LoopContext*>(arg);
  static_cast<Connection*>(e->owner)->tick(uv_now(self->loop_));
}

void LoopContext::contextHandleCloseCb(uv_handle_t* handle) {
  static_cast<LoopContext*>(handle->data)->handleClosed();
}

void LoopContext::handleClosed() {
  if (--pending_closes_ != 0 || !destroying_) return;
  void (*done)(void*) = done_;
  void* arg = done_arg_;
  delete this;
  if (done != nullptr) done(arg);
}

}  // namespace sse
