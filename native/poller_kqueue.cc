// kqueue backend of poller.h (macOS and the BSDs; libkqueue on Linux to test it). As in redis's
// ae_kqueue, an fd has a read filter and a write filter, and the two events kqueue returns for
// it are merged back into one mask. Level-triggered like the epoll backend (no EV_CLEAR): a
// connection left unread in one round is reported again next round, so nothing is ever lost.
#include "poller.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <unistd.h>

#include <vector>

#include "kqueue_pollable.h"

namespace rl {

struct Poller {
  int kq;
  int watchFd;  // what libuv watches: kq itself except under libkqueue (kqueue_pollable.h)
  // Filters registered per fd: kqueue has no "modify", the change is the difference.
  std::vector<uint8_t> interest;
  // Per-fd mask being merged in pollerWait; all zero between calls.
  std::vector<uint8_t> merged;
  // Per-fd socket error seen with EV_EOF in pollerWait; all zero between calls.
  std::vector<int> errs;
  std::vector<struct kevent> events;
};

Poller* pollerCreate(int* err) {
  int kq = kqueue();
  if (kq < 0) {
    *err = errno;
    return nullptr;
  }
  // fork drops kqueues, but posix_spawn would pass one on; every fd of the addon is close-on-exec.
  fcntl(kq, F_SETFD, FD_CLOEXEC);
  int watch = kqueuePollableFd(kq);
  if (watch < 0) {
    close(kq);
    *err = -watch;
    return nullptr;
  }
  return new Poller{kq, watch, {}, {}, {}, std::vector<struct kevent>(256)};
}

void pollerFree(Poller* p) {
  if (!p) return;
  close(p->kq);
  delete p;
}

int pollerFd(const Poller* p) { return p->watchFd; }

static void change(struct kevent* ch, int* n, int fd, int16_t filter, bool had, bool want) {
  if (had == want) return;
  struct kevent* e = &ch[(*n)++];  // some EV_SET macros evaluate their first argument repeatedly
  EV_SET(e, fd, filter, want ? EV_ADD : EV_DELETE, 0, 0, 0);
}

// One kevent call for both filters. `had` is what is registered now, as far as we know.
static int apply(Poller* p, int fd, uint32_t had, uint32_t want) {
  if (fd < 0) return -EBADF;
  struct kevent ch[2];
  int n = 0;
  change(ch, &n, fd, EVFILT_READ, had & kPollReadable, want & kPollReadable);
  change(ch, &n, fd, EVFILT_WRITE, had & kPollWritable, want & kPollWritable);
  int r = (n > 0 && kevent(p->kq, ch, n, nullptr, 0, nullptr) < 0) ? -errno : 0;
  if (static_cast<size_t>(fd) >= p->interest.size()) {
    p->interest.resize(fd + 1024, 0);
    p->merged.resize(fd + 1024, 0);
  }
  // A failed change keeps the record (kevent may have applied the entries before the failing
  // one, as epoll_ctl cannot); a removal forgets the fd whatever happened.
  if (r == 0 || want == 0) p->interest[fd] = static_cast<uint8_t>(want & (kPollReadable | kPollWritable));
  return r;
}

static uint32_t registered(const Poller* p, int fd) {
  return fd >= 0 && static_cast<size_t>(fd) < p->interest.size() ? p->interest[fd] : 0;
}

// A new fd may reuse the number of one closed without pollerRemove (the kernel dropped its
// filters then, our table did not): add what is wanted and trust nothing recorded.
int pollerAdd(Poller* p, int fd, uint32_t mask) { return apply(p, fd, 0, mask); }
int pollerModify(Poller* p, int fd, uint32_t mask) { return apply(p, fd, registered(p, fd), mask); }
int pollerRemove(Poller* p, int fd) { return apply(p, fd, registered(p, fd), 0); }

static uint32_t toMask(const struct kevent& e) {
  if (e.flags & EV_ERROR) return kPollError;
  uint32_t m = 0;
  if (e.filter == EVFILT_READ) {
    m = kPollReadable;
    // EOF alone is the peer's FIN (epoll's RDHUP: read to see it); fflags carries a socket error.
    if ((e.flags & EV_EOF) && e.fflags) m |= kPollError;
  } else if (e.filter == EVFILT_WRITE) {
    m = kPollWritable;
    // EOF on the write side: the next write fails, as with epoll's HUP/ERR.
    if (e.flags & EV_EOF) m |= kPollError;
  }
  return m;
}

int pollerWait(Poller* p, PollEvent* out, int max, int timeoutMs) {
  if (static_cast<int>(p->events.size()) < max) p->events.resize(max);
  timespec ts{timeoutMs / 1000, (timeoutMs % 1000) * 1000000L};
  int n;
  do {
    n = kevent(p->kq, nullptr, 0, p->events.data(), max, timeoutMs < 0 ? nullptr : &ts);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  // At most one output per fd: n kevents never merge into more than n events, so out fits.
  int count = 0;
  for (int i = 0; i < n; i++) {
    int fd = static_cast<int>(p->events[i].ident);
    uint32_t m = toMask(p->events[i]);
    if (m == 0) continue;
    if (fd < 0 || static_cast<size_t>(fd) >= p->merged.size()) {
      out[count++] = PollEvent{fd, m};  // never registered through us: nothing to merge with
      continue;
    }
    if (p->merged[fd] == 0) out[count++] = PollEvent{fd, 0};
    p->merged[fd] |= static_cast<uint8_t>(m);
    const struct kevent& e = p->events[i];
    if (e.filter == EVFILT_READ && (e.flags & EV_EOF) && e.fflags) {
      if (p->errs.size() < p->merged.size()) p->errs.resize(p->merged.size(), 0);
      p->errs[fd] = static_cast<int>(e.fflags);
    }
  }
  for (int i = 0; i < count; i++) {
    int fd = out[i].fd;
    if (fd < 0 || static_cast<size_t>(fd) >= p->merged.size()) continue;
    out[i].mask = p->merged[fd];
    p->merged[fd] = 0;
    if (static_cast<size_t>(fd) < p->errs.size()) {
      out[i].err = p->errs[fd];
      p->errs[fd] = 0;
    }
  }
  return count;
}

const char* pollerName() { return "kqueue"; }

}  // namespace rl
