// The poller interface: the only thing the loop knows about epoll/kqueue. One backend file per
// mechanism (poller_epoll.cc, ...), picked by binding.gyp at build time, never at run time.
#pragma once
#include <cstdint>

namespace rl {

enum PollMask : uint32_t {
  kPollNone = 0,
  kPollReadable = 1u << 0,
  kPollWritable = 1u << 1,
  // A socket error. Always reported, whatever was asked for: the loop then reads to learn why.
  kPollError = 1u << 2,
  // Hang-up without an error: both directions are shut (we sent FIN, the peer did too). Always
  // reported too, but bytes the peer sent before its FIN may still be unread: it is not a close.
  kPollHangup = 1u << 3,
};

struct PollEvent {
  int fd;
  uint32_t mask;
  // A socket error the mechanism delivered with the event (kqueue's EV_EOF fflags), else 0. Some
  // implementations consume it in doing so, and the next read then sees a plain EOF.
  int err = 0;
};

struct Poller;

// Returns nullptr and sets *err (an errno) on failure.
Poller* pollerCreate(int* err);
void pollerFree(Poller* p);
// The descriptor libuv watches (with uv_poll_t) so the reactor nests in the thread's libuv loop.
int pollerFd(const Poller* p);
// Level-triggered interest. Return 0 or -errno.
int pollerAdd(Poller* p, int fd, uint32_t mask);
int pollerModify(Poller* p, int fd, uint32_t mask);
int pollerRemove(Poller* p, int fd);
// Fills up to max events; timeoutMs 0 never blocks. Returns the count or -errno.
int pollerWait(Poller* p, PollEvent* out, int max, int timeoutMs);
const char* pollerName();

}  // namespace rl
