// libkqueue, the kqueue of the Linux test build: its kqueue descriptor is the write end of a
// private pipe (closing it is how libkqueue learns the kqueue is gone), so it never polls
// readable and libuv would wait on it forever. The events themselves sit in an epoll instance
// behind it, which watches that pipe's read end for EPOLLIN. We find that epoll through /proc
// (its fdinfo lists each target's inode) and let libuv watch it instead. It relies on
// libkqueue's internals, which is acceptable for a test build and nothing else: on macOS and
// the BSDs the kqueue itself is watched (kqueue_pollable_native.cc).
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kqueue_pollable.h"

namespace rl {

// True if epoll instance `fd` watches inode `ino` for readability.
static bool watchesForInput(int fd, unsigned long ino) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
  FILE* f = fopen(path, "re");
  if (!f) return false;
  bool found = false;
  char line[256];
  while (!found && fgets(line, sizeof line, f)) {
    unsigned int events = 0;
    unsigned long target = 0;
    const char* ev = strstr(line, "events:");
    const char* in = strstr(line, " ino:");
    if (strncmp(line, "tfd:", 4) != 0 || !ev || !in) continue;
    if (sscanf(ev, "events: %x", &events) == 1 && sscanf(in, " ino:%lx", &target) == 1)
      found = target == ino && (events & EPOLLIN);
  }
  fclose(f);
  return found;
}

int kqueuePollableFd(int kq) {
  struct stat st;
  if (fstat(kq, &st) < 0) return -errno;
  if (!S_ISFIFO(st.st_mode)) return kq;  // not the libkqueue we know: assume it is pollable
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return -errno;
  int result = -ENOTSUP;
  while (dirent* d = readdir(dir)) {
    if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
    int fd = atoi(d->d_name);
    char path[64], target[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    if (strcmp(target, "anon_inode:[eventpoll]") == 0 && watchesForInput(fd, st.st_ino)) {
      result = fd;
      break;
    }
  }
  closedir(dir);
  return result;
}

}  // namespace rl
