// A byte ring that grows by doubling up to a cap and gives its memory back when asked. Connections
// hold one only while they have leftover bytes, so idle connections cost nothing here.
#pragma once
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

namespace rl {

class RingBuffer {
 public:
  explicit RingBuffer(size_t cap) : cap_(cap) {}
  ~RingBuffer();
  RingBuffer(const RingBuffer&) = delete;
  RingBuffer& operator=(const RingBuffer&) = delete;

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  size_t cap() const { return cap_; }
  bool empty() const { return size_ == 0; }

  // Appends all of n bytes, or none if that would pass the cap (or memory ran out): false then.
  bool write(const void* src, size_t n);
  // The buffered bytes as up to two pieces (head, then the wrapped-around tail); returns the count.
  int peek(iovec out[2]) const;
  // Copies all buffered bytes to dst (which must have size() bytes).
  void copyOut(uint8_t* dst) const;
  void discard(size_t n);
  void clear() { head_ = size_ = 0; }
  // Frees the memory (only when empty); the next write allocates again.
  void release();

 private:
  bool reserve(size_t need);
  uint8_t* buf_ = nullptr;
  size_t capacity_ = 0;  // allocated, a power of two
  size_t head_ = 0;
  size_t size_ = 0;
  size_t cap_;
};

}  // namespace rl
