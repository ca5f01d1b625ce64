// The reactor's codec hook: a delivery on a connection whose listener names a codec is framed
// here, after read (and TLS decryption: reactor_tls.cc delivers plaintext through the same
// deliver()), before the batch goes to JS. The group goes into the shared frame table and the
// event is kFrames instead of kData, so JS gets whole frames and their parts' offsets in the
// round's one call, with no Buffer and no crossing per frame.
//
// Fairness is unchanged: framing works on what deliver() already placed in the arena (at most
// the connection's read share plus its leftover), so a connection with a huge pipeline frames no
// more per round than it reads. When the table fills up, the rest of that delivery (and of later
// ones this round) waits for the next round's fresh table: the connection is delivered again
// first thing in the next round (before deferred and new reads), from its unconsumed bytes,
// which JS kept as leftover; it is not read in that round, so its leftover cannot grow.
#include <errno.h>

#include "reactor.h"

namespace rl {

void Reactor::setListenerCodec(int32_t listener, const codec::Spec& spec) {
  if (listener < 0) return;
  if (static_cast<size_t>(listener) >= listenerCodec_.size()) listenerCodec_.resize(listener + 1);
  listenerCodec_[listener] = spec;
}

bool Reactor::deliverFrames(int32_t slot, size_t off, size_t len) {
  Conn& c = conns_[slot];
  if (!frames_ || c.listener < 0 || static_cast<size_t>(c.listener) >= listenerCodec_.size()) return false;
  const codec::Spec& spec = listenerCodec_[c.listener];
  if (spec.type == codec::kNone) return false;
  size_t at = framesPos_;
  size_t n = codec::frameAll(spec, arena_ + off, len, frames_ + at, framesCap_ - at);
  if (n == 0) {
    // Not even a group header left this round: the bytes wait natively as the connection's
    // leftover (where JS would have kept them), and it is delivered again next round.
    if (!c.in) c.in = new RingBuffer(opts_.readCap);
    if (!c.in->write(arena_ + off, len)) {
      closeConn(slot, EMSGSIZE);
      return true;
    }
    arenaPos_ = off;  // this delivery was the arena's last
    reframe_.emplace_back(slot, c.gen);
    return true;
  }
  framesPos_ = at + n;
  if (frames_[at + 3] == codec::kStopped) reframe_.emplace_back(slot, c.gen);
  push(ev::kFrames, slot, static_cast<int32_t>(off), static_cast<int32_t>(at));
  return true;
}

void Reactor::deliverReframed() {
  carryFrames_.swap(reframe_);
  for (const auto& [slot, gen] : carryFrames_) {
    Conn* c = live(slot, gen);
    if (!c || c->closing || c->dgram) continue;
    size_t leftover = c->in ? c->in->size() : 0;
    if (leftover == 0) continue;  // the handler consumed it all after all
    if (arenaSize_ - arenaPos_ < leftover) {
      if (arenaPos_ != 0) {  // no room left this round: first again in the next one
        reframe_.emplace_back(slot, gen);
        continue;
      }
      if (!growArenaFor(slot, leftover)) continue;
    }
    deliver(slot, 0, arenaPos_);  // framed again; read as usual from the next round on
  }
  carryFrames_.clear();
}

}  // namespace rl
