#include "ringbuf.h"

#include <cstdlib>
#include <cstring>

namespace rl {

static constexpr size_t kMinCapacity = 4096;

RingBuffer::~RingBuffer() { free(buf_); }

bool RingBuffer::reserve(size_t need) {
  if (need <= capacity_) return true;
  if (need > cap_) return false;
  size_t c = capacity_ ? capacity_ : kMinCapacity;
  while (c < need) c <<= 1;
  auto* nb = static_cast<uint8_t*>(malloc(c));
  if (!nb) return false;
  // Linearise on growth: the new buffer starts at head 0.
  copyOut(nb);
  free(buf_);
  buf_ = nb;
  capacity_ = c;
  head_ = 0;
  return true;
}

bool RingBuffer::write(const void* src, size_t n) {
  if (n == 0) return true;
  if (!reserve(size_ + n)) return false;
  size_t tail = (head_ + size_) & (capacity_ - 1);
  size_t first = capacity_ - tail < n ? capacity_ - tail : n;
  memcpy(buf_ + tail, src, first);
  memcpy(buf_, static_cast<const uint8_t*>(src) + first, n - first);
  size_ += n;
  return true;
}

int RingBuffer::peek(iovec out[2]) const {
  if (size_ == 0) return 0;
  size_t first = capacity_ - head_ < size_ ? capacity_ - head_ : size_;
  out[0].iov_base = buf_ + head_;
  out[0].iov_len = first;
  if (first == size_) return 1;
  out[1].iov_base = buf_;
  out[1].iov_len = size_ - first;
  return 2;
}

void RingBuffer::copyOut(uint8_t* dst) const {
  iovec v[2];
  int n = peek(v);
  for (int i = 0; i < n; i++) {
    memcpy(dst, v[i].iov_base, v[i].iov_len);
    dst += v[i].iov_len;
  }
}

void RingBuffer::discard(size_t n) {
  if (n >= size_) {
    head_ = size_ = 0;
    return;
  }
  head_ = (head_ + n) & (capacity_ - 1);
  size_ -= n;
}

void RingBuffer::release() {
  if (size_ != 0) return;
  free(buf_);
  buf_ = nullptr;
  capacity_ = head_ = 0;
}

}  // namespace rl
