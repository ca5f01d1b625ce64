// libkqueue, the kqueue of the Linux test build: its kqueue descriptor is the write end of a
// private pipe (closing it is how libkqueue learns the kqueue is gone), so it never polls
// readable and libuv would wait on it forever. The events themselves sit in an epoll instance
// behind it: libkqueue's Linux backend registers every EVFILT_READ/EVFILT_WRITE descriptor in
// the kqueue's own epoll, which is therefore readable exactly while the kqueue has events.
//
// We find that epoll by what it does, not by libkqueue's internals: register a read filter on a
// pipe of our own, then look through /proc/self/fdinfo for the one epoll instance that watches
// that pipe (its inode is ours alone, so no other epoll in the process can match), and remove the
// filter again. This holds for libkqueue 2.x releases (tested: v2.7.0 and the master branch of
// 2026-05); an older approach watched libkqueue's close-detection pipe, which only its unreleased
// master registers in that epoll. Acceptable for a test build and nothing else: on macOS and the
// BSDs the kqueue itself is watched (kqueue_pollable_native.cc).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/event.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kqueue_pollable.h"

namespace rl {

// True if epoll instance `fd` watches descriptor `target` (inode `ino`) for input.
static bool watches(int fd, int target, unsigned long ino) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
  FILE* f = fopen(path, "re");
  if (!f) return false;
  bool found = false;
  char line[256];
  while (!found && fgets(line, sizeof line, f)) {
    int tfd = -1;
    unsigned int events = 0;
    unsigned long inode = 0;
    const char* ev = strstr(line, "events:");
    const char* in = strstr(line, " ino:");
    if (sscanf(line, "tfd: %d", &tfd) != 1 || !ev || !in) continue;
    if (sscanf(ev, "events: %x", &events) == 1 && sscanf(in, " ino:%lx", &inode) == 1)
      found = tfd == target && inode == ino && (events & EPOLLIN);
  }
  fclose(f);
  return found;
}

// The epoll instance among this process's descriptors that watches `target` (inode `ino`), or -1.
static int epollWatching(int target, unsigned long ino) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return -1;
  int result = -1;
  while (dirent* d = readdir(dir)) {
    if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
    int fd = atoi(d->d_name);
    char path[64], link[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n <= 0) continue;
    link[n] = '\0';
    if (strcmp(link, "anon_inode:[eventpoll]") == 0 && watches(fd, target, ino)) {
      result = fd;
      break;
    }
  }
  closedir(dir);
  return result;
}

int kqueuePollableFd(int kq) {
  struct stat st;
  if (fstat(kq, &st) < 0) return -errno;
  if (!S_ISFIFO(st.st_mode)) return kq;  // not the libkqueue we know: assume it is pollable
  int probe[2];
  if (pipe2(probe, O_CLOEXEC | O_NONBLOCK) < 0) return -errno;
  int result = -ENOTSUP;
  struct kevent change;
  EV_SET(&change, probe[0], EVFILT_READ, EV_ADD, 0, 0, nullptr);
  if (kevent(kq, &change, 1, nullptr, 0, nullptr) < 0) {
    result = -errno;
  } else {
    struct stat pst;
    if (fstat(probe[0], &pst) == 0) {
      int ep = epollWatching(probe[0], static_cast<unsigned long>(pst.st_ino));
      if (ep >= 0) result = ep;
    }
    EV_SET(&change, probe[0], EVFILT_READ, EV_DELETE, 0, 0, nullptr);
    kevent(kq, &change, 1, nullptr, 0, nullptr);
  }
  close(probe[0]);
  close(probe[1]);
  return result;
}

}  // namespace rl
