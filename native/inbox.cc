#include "inbox.h"

namespace rl {

using namespace layout;

Inbox::Inbox(int32_t* base, size_t bytes) {
  int32_t slots = __atomic_load_n(base + kSlots, __ATOMIC_SEQ_CST);
  int32_t slotBytes = __atomic_load_n(base + kSlotBytes, __ATOMIC_SEQ_CST);
  // A malformed buffer must not let us read outside it.
  if (slots <= 0 || (slots & (slots - 1)) != 0 || slotBytes < kPayloadOffset || slotBytes % 8 != 0) return;
  if (kHeaderInts * 4 + static_cast<size_t>(slots) * slotBytes > bytes) return;
  base_ = base;
  mask_ = static_cast<uint32_t>(slots) - 1;
  slotInts_ = static_cast<size_t>(slotBytes) / 4;
}

int32_t* Inbox::slot(uint32_t seq) const { return base_ + kHeaderInts + (seq & mask_) * slotInts_; }

bool Inbox::peek(InboxMsg* m) const {
  uint32_t head = static_cast<uint32_t>(__atomic_load_n(base_ + kHead, __ATOMIC_SEQ_CST));
  int32_t* s = slot(head);
  if (static_cast<uint32_t>(__atomic_load_n(s + kSeq, __ATOMIC_SEQ_CST)) != head) return false;
  m->type = s[kType];
  m->a = s[kA];
  m->b = s[kB];
  m->c = s[kC];
  m->len = s[kLen];
  m->token = s[kToken];
  m->staged = nullptr;
  if ((m->type == kMsgWrite || m->type == kMsgSendTo || m->type == kMsgDial || m->type == kMsgPublish ||
       m->type == kMsgBroadcast) &&
      m->c == 1) {
    m->staged = static_cast<uint8_t*>(stagedPointer(s[kPtrLo], s[kPtrHi]));
    m->data = m->staged;
  } else {
    m->data = reinterpret_cast<const uint8_t*>(s) + kPayloadOffset;
    int32_t room = static_cast<int32_t>(slotInts_ * 4) - kPayloadOffset;
    if (m->len < 0 || m->len > room) m->len = 0;  // never read past the slot
  }
  return true;
}

void Inbox::advance() {
  uint32_t head = static_cast<uint32_t>(__atomic_load_n(base_ + kHead, __ATOMIC_SEQ_CST));
  __atomic_store_n(base_ + kHead, static_cast<int32_t>(head + 1), __ATOMIC_SEQ_CST);
}

bool Inbox::park() {
  __atomic_store_n(base_ + kParked, 1, __ATOMIC_SEQ_CST);
  InboxMsg m;
  if (peek(&m)) {
    __atomic_store_n(base_ + kParked, 0, __ATOMIC_SEQ_CST);
    return false;
  }
  return true;
}

void Inbox::unpark() { __atomic_store_n(base_ + kParked, 0, __ATOMIC_SEQ_CST); }

int32_t Inbox::load(int word) const { return __atomic_load_n(base_ + word, __ATOMIC_SEQ_CST); }
void Inbox::store(int word, int32_t v) { __atomic_store_n(base_ + word, v, __ATOMIC_SEQ_CST); }
int32_t Inbox::add(int word, int32_t v) { return __atomic_add_fetch(base_ + word, v, __ATOMIC_SEQ_CST); }

void* stagedPointer(int32_t lo, int32_t hi) {
  uint64_t p = (static_cast<uint64_t>(static_cast<uint32_t>(hi)) << 32) | static_cast<uint32_t>(lo);
  return reinterpret_cast<void*>(static_cast<uintptr_t>(p));
}

}  // namespace rl
