// Wake-up descriptor where there is no eventfd (macOS, the BSDs, and the kqueue test build on
// Linux): a UDP socket on the loopback interface, connected to its own address. A signal is a
// small datagram to itself, which makes the same descriptor readable.
//
// Why not the usual self-pipe: the JS side holds one number per reactor (in the inbox header,
// passed to wake(fd), closed with closeFd(fd)), while a pipe has two ends. Mapping the read end
// to the write end needs a table every thread reads, and closeFd would leave the write end open.
// Why not EVFILT_USER: it lives in a kqueue, and the reactor's kqueue does not exist yet when
// the engine creates this fd; a dedicated kqueue per reactor would do on macOS/BSD, but
// libkqueue's kqueue fds do not poll readable, so it could not be tested on Linux.
// Here one descriptor is both ends: no shared state between threads (concurrent sends on one
// socket are safe), and closing it releases everything. Connected, it accepts datagrams only
// from its own address, so no other socket can wake it.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socket_compat.h"
#include "wakeup.h"

namespace rl {

static int selfConnected(int family) {
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET) {
    auto* in4 = reinterpret_cast<sockaddr_in*>(&ss);
    in4->sin_family = AF_INET;
    in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(sockaddr_in);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_addr = in6addr_loopback;
    len = sizeof(sockaddr_in6);
  }
  int fd = socketNonBlocking(family, SOCK_DGRAM);
  if (fd < 0) return -errno;
  // Port 0 on bind picks a free one; getsockname tells which, to connect to it.
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

int wakeupCreate() {
  int fd = selfConnected(AF_INET);
  return fd >= 0 ? fd : selfConnected(AF_INET6);  // hosts without 127.0.0.1
}

int wakeupSignal(int fd) {
  // The payload is eventfd's (a native-endian 64-bit 1), so one signal reads the same on both.
  uint64_t one = 1;
  ssize_t n;
  do {
    n = send(fd, &one, sizeof one, 0);
  } while (n < 0 && errno == EINTR);
  // A full queue is made of earlier signals: the reader is already due to wake.
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) return 0;
  return n < 0 ? -errno : 0;
}

void wakeupDrain(int fd) {
  char buf[64];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // EAGAIN: drained
  }
}

}  // namespace rl
