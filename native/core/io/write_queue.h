// A connection's queue of shared buffer references waiting for the kernel.
#ifndef SSE_CORE_IO_WRITE_QUEUE_H_
#define SSE_CORE_IO_WRITE_QUEUE_H_

#include <uv.h>

#include <cstddef>
#include <cstdint>

#include "core/shared_buffer.h"

namespace sse {
namespace detail {

// FIFO of {buffer, offset, charge} slots: a few inline (an idle or lightly
// used connection allocates nothing), a heap array during bursts that is
// freed when the queue empties. The first inflight() slots belong to a
// uv_write in flight (or a buffer handed to the embedder) and stay
// referenced until popInflight().
//
// A slot's charge is what it costs this member against its memory cap: its
// size for a frame it owns alone, a share of it for a broadcast frame queued
// on many members. pendingCharge() sums the slots not in flight.
class WriteQueue {
 public:
  WriteQueue() = default;
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;
  ~WriteQueue() { clear(); }

  // Largest buffer a slot holds (offsets and charges are 32-bit).
  static constexpr size_t kMaxBuffer = UINT32_MAX;

  // Takes the reference `buf` (0 < size <= kMaxBuffer) charged `charge`
  // bytes and returns true, or returns false without memory (the caller
  // keeps the reference).
  bool push(SharedBuffer* buf, uint32_t charge);
  bool push(SharedBuffer* buf) { return push(buf, static_cast<uint32_t>(buf->size())); }
  // Puts `buf` (size > 0) before everything queued; no slot may be in
  // flight. False without memory (the caller keeps the reference).
  bool pushFront(SharedBuffer* buf);
  // The first slot's buffer and offset (the queue must not be empty).
  SharedBuffer* frontBuffer(size_t* offset) const {
    *offset = slots_[begin_].offset;
    return slots_[begin_].buf;
  }
  // Fills at most `max` iovecs from the front (in-flight slots included);
  // returns how many and sets *total to their bytes.
  uint32_t fill(uv_buf_t* bufs, uint32_t max, size_t* total) const;
  // Copies the bytes of every slot from the first not in flight to `out`
  // (pendingBytes() of room); returns how many slots.
  uint32_t copyPending(char* out) const;
  // Drops the first `bytes` bytes (accepted by the kernel); no slot may be
  // in flight.
  void consume(size_t bytes);
  // Marks the first `n` slots (n >= inflight()) as owned by a uv_write in
  // flight or handed to the embedder.
  void markInflight(uint32_t n);
  // Drops the in-flight slots (their write completed); returns their bytes.
  size_t popInflight();
  // Drops everything, in flight or not.
  void clear();

  size_t bytes() const { return bytes_; }
  // Bytes and charge of the slots not in flight.
  size_t pendingBytes() const;
  size_t pendingCharge() const { return pending_charge_; }
  bool empty() const { return begin_ == end_; }
  uint32_t slots() const { return end_ - begin_; }
  uint32_t inflight() const { return inflight_; }
  // True when every queued slot has been handed to a uv_write.
  bool allInflight() const { return inflight_ == end_ - begin_; }

 private:
  struct Slot {
    SharedBuffer* buf;
    uint32_t offset;
    uint32_t charge;
  };
  static constexpr uint32_t kInlineSlots = 4;

  void reset();

  Slot* slots_ = inline_;
  uint32_t begin_ = 0, end_ = 0, cap_ = kInlineSlots, inflight_ = 0;
  size_t bytes_ = 0;
  size_t pending_charge_ = 0;
  Slot inline_[kInlineSlots];
};

}  // namespace detail
}  // namespace sse

#endif  // SSE_CORE_IO_WRITE_QUEUE_H_
