#include "core/io/write_queue.h"

#include <cstdlib>
#include <cstring>

namespace sse {
namespace detail {

bool WriteQueue::push(SharedBuffer* buf, uint32_t charge) {
  if (buf->size() > kMaxBuffer) return false;
  if (end_ == cap_) {
    uint32_t used = end_ - begin_;
    if (begin_ >= cap_ / 2) {
      // Slots hold only our references: libuv copied the iovecs it holds,
      // so moving them under a write in flight is fine.
      std::memmove(slots_, slots_ + begin_, used * sizeof(Slot));
    } else {
      uint32_t cap = cap_ * 2;
      Slot* grown = static_cast<Slot*>(std::malloc(cap * sizeof(Slot)));
      if (grown == nullptr) return false;
      std::memcpy(grown, slots_ + begin_, used * sizeof(Slot));
      if (slots_ != inline_) std::free(slots_);
      slots_ = grown;
      cap_ = cap;
    }
    begin_ = 0;
    end_ = used;
  }
  slots_[end_++] = Slot{buf, 0, charge};
  bytes_ += buf->size();
  pending_charge_ += charge;
  return true;
}

bool WriteQueue::pushFront(SharedBuffer* buf) {
  if (buf->size() > kMaxBuffer) return false;
  if (begin_ == 0) {
    if (!push(buf)) return false;  // room at the end, then rotate it first
    Slot last = slots_[end_ - 1];
    std::memmove(slots_ + begin_ + 1, slots_ + begin_, (end_ - 1 - begin_) * sizeof(Slot));
    slots_[begin_] = last;
    return true;
  }
  slots_[--begin_] = Slot{buf, 0, static_cast<uint32_t>(buf->size())};
  bytes_ += buf->size();
  pending_charge_ += buf->size();
  return true;
}

uint32_t WriteQueue::fill(uv_buf_t* bufs, uint32_t max, size_t* total) const {
  uint32_t n = 0;
  *total = 0;
  for (uint32_t i = begin_; i < end_ && n < max; ++i, ++n) {
    const Slot& s = slots_[i];
    size_t len = s.buf->size() - s.offset;
    bufs[n] = uv_buf_init(s.buf->data() + s.offset, static_cast<unsigned>(len));
    *total += len;
  }
  return n;
}

uint32_t WriteQueue::copyPending(char* out) const {
  for (uint32_t i = begin_ + inflight_; i < end_; ++i) {
    const Slot& s = slots_[i];
    size_t len = s.buf->size() - s.offset;
    std::memcpy(out, s.buf->data() + s.offset, len);
    out += len;
  }
  return end_ - begin_ - inflight_;
}

size_t WriteQueue::pendingBytes() const {
  size_t n = 0;
  for (uint32_t i = begin_ + inflight_; i < end_; ++i) n += slots_[i].buf->size() - slots_[i].offset;
  return n;
}

void WriteQueue::markInflight(uint32_t n) {
  for (uint32_t i = begin_ + inflight_; i < begin_ + n; ++i) pending_charge_ -= slots_[i].charge;
  inflight_ = n;
}

void WriteQueue::consume(size_t bytes) {
  bytes_ -= bytes;
  while (bytes != 0) {
    Slot& s = slots_[begin_];
    size_t left = s.buf->size() - s.offset;
    if (bytes < left) {
      s.offset += static_cast<uint32_t>(bytes);
      return;
    }
    bytes -= left;
    pending_charge_ -= s.charge;
    s.buf->unref();
    ++begin_;
  }
  if (begin_ == end_) reset();
}

size_t WriteQueue::popInflight() {
  size_t bytes = 0;
  for (uint32_t i = 0; i < inflight_; ++i) {
    Slot& s = slots_[begin_++];
    bytes += s.buf->size() - s.offset;
    s.buf->unref();
  }
  inflight_ = 0;
  bytes_ -= bytes;
  if (begin_ == end_) reset();
  return bytes;
}

void WriteQueue::clear() {
  for (uint32_t i = begin_; i < end_; ++i) slots_[i].buf->unref();
  bytes_ = 0;
  pending_charge_ = 0;
  inflight_ = 0;
  reset();
}

// An empty queue keeps only its inline slots.
void WriteQueue::reset() {
  begin_ = end_ = 0;
  if (slots_ != inline_) {
    std::free(slots_);
    slots_ = inline_;
    cap_ = kInlineSlots;
  }
}

}  // namespace detail
}  // namespace sse
