// Reference-counted immutable bytes: one encoded frame shared by every
// connection that sends it.
#ifndef SSE_CORE_SHARED_BUFFER_H_
#define SSE_CORE_SHARED_BUFFER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace sse {

// A heap block holding a count and `size` bytes. Written only by its creator
// before it is first shared; after that it is read-only, so any thread may
// hold references (the count is atomic; a Worker may publish a frame that
// the main thread's connections send).
class SharedBuffer {
 public:
  // Returns a buffer with one reference and `size` uninitialized bytes, or
  // nullptr when memory is exhausted.
  static SharedBuffer* create(size_t size) {
    void* mem = std::malloc(sizeof(SharedBuffer) + (size ? size : 1));
    if (mem == nullptr) return nullptr;
    return new (mem) SharedBuffer(size);
  }
  // Returns a buffer with one reference holding a copy of `bytes`.
  static SharedBuffer* copyOf(const void* bytes, size_t size) {
    SharedBuffer* b = create(size);
    if (b != nullptr && size != 0) std::memcpy(b->data(), bytes, size);
    return b;
  }

  char* data() { return reinterpret_cast<char*>(this + 1); }
  const char* data() const { return reinterpret_cast<const char*>(this + 1); }
  size_t size() const { return size_; }
  // Shrinks the visible size (never grows); for encoders that reserve an
  // upper bound before writing. Only before the buffer is shared.
  void truncate(size_t size) {
    if (size < size_) size_ = size;
  }

  void ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  // Drops one reference; frees the block with the last one.
  void unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      this->~SharedBuffer();
      std::free(this);
    }
  }
  uint32_t refCount() const { return refs_.load(std::memory_order_relaxed); }

 private:
  explicit SharedBuffer(size_t size) : size_(size) {}
  ~SharedBuffer() = default;

  std::atomic<uint32_t> refs_{1};
  size_t size_;
};

// Owning handle to one reference of a SharedBuffer (move-only unless copied
// explicitly with share()).
class BufferRef {
 public:
  BufferRef() = default;
  // Adopts one existing reference (does not add one).
  explicit BufferRef(SharedBuffer* adopted) : buf_(adopted) {}
  BufferRef(BufferRef&& other) noexcept : buf_(std::exchange(other.buf_, nullptr)) {}
  BufferRef& operator=(BufferRef&& other) noexcept {
    if (this != &other) {
      reset();
      buf_ = std::exchange(other.buf_, nullptr);
    }
    return *this;
  }
  BufferRef(const BufferRef&) = delete;
  BufferRef& operator=(const BufferRef&) = delete;
  ~BufferRef() { reset(); }

  // A second reference to the same bytes.
  BufferRef share() const {
    if (buf_ != nullptr) buf_->ref();
    return BufferRef(buf_);
  }
  void reset() {
    if (buf_ != nullptr) std::exchange(buf_, nullptr)->unref();
  }
  // Gives up ownership of the reference without dropping it.
  SharedBuffer* release() { return std::exchange(buf_, nullptr); }

  SharedBuffer* get() const { return buf_; }
  const char* data() const { return buf_->data(); }
  size_t size() const { return buf_ ? buf_->size() : 0; }
  explicit operator bool() const { return buf_ != nullptr; }

 private:
  SharedBuffer* buf_ = nullptr;
};

}  // namespace sse

#endif  // SSE_CORE_SHARED_BUFFER_H_
