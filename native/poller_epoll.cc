// epoll backend of poller.h (Linux). Level-triggered: a connection left unread in one round (the
// read arena was full) is simply reported again next round, so nothing is ever lost.
#include "poller.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <vector>

namespace rl {

struct Poller {
  int epfd;
  std::vector<epoll_event> events;
};

static uint32_t toEpoll(uint32_t mask) {
  uint32_t ev = 0;
  if (mask & kPollReadable) ev |= EPOLLIN | EPOLLRDHUP;
  if (mask & kPollWritable) ev |= EPOLLOUT;
  return ev;
}

Poller* pollerCreate(int* err) {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) {
    *err = errno;
    return nullptr;
  }
  return new Poller{fd, std::vector<epoll_event>(256)};
}

void pollerFree(Poller* p) {
  if (!p) return;
  close(p->epfd);
  delete p;
}

int pollerFd(const Poller* p) { return p->epfd; }

static int ctl(Poller* p, int op, int fd, uint32_t mask) {
  epoll_event ev{};
  ev.events = toEpoll(mask);
  ev.data.fd = fd;
  return epoll_ctl(p->epfd, op, fd, &ev) == 0 ? 0 : -errno;
}

int pollerAdd(Poller* p, int fd, uint32_t mask) { return ctl(p, EPOLL_CTL_ADD, fd, mask); }
int pollerModify(Poller* p, int fd, uint32_t mask) { return ctl(p, EPOLL_CTL_MOD, fd, mask); }
int pollerRemove(Poller* p, int fd) { return ctl(p, EPOLL_CTL_DEL, fd, 0); }

int pollerWait(Poller* p, PollEvent* out, int max, int timeoutMs) {
  if (static_cast<int>(p->events.size()) < max) p->events.resize(max);
  int n;
  do {
    n = epoll_wait(p->epfd, p->events.data(), max, timeoutMs);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  for (int i = 0; i < n; i++) {
    uint32_t e = p->events[i].events;
    uint32_t m = 0;
    if (e & (EPOLLIN | EPOLLRDHUP)) m |= kPollReadable;
    if (e & EPOLLOUT) m |= kPollWritable;
    if (e & EPOLLERR) m |= kPollError;
    if (e & EPOLLHUP) m |= kPollHangup;
    out[i] = PollEvent{p->events[i].data.fd, m};
  }
  return n;
}

const char* pollerName() { return "epoll"; }

}  // namespace rl
