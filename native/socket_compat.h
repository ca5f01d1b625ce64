// The socket calls that differ between Linux and macOS/BSD, one helper each, so socket.cc and
// the wake-up code read the same everywhere. Chosen by what the headers offer, at build time:
// Linux keeps its single-syscall forms (SOCK_NONBLOCK, accept4, MSG_NOSIGNAL), exactly as before.
// RINGLOOP_PORTABLE_SOCKETS (set by the kqueue test build) takes the macOS path where Linux can,
// so the Linux test run covers it too.
// recvmmsg/sendmmsg and their per-datagram fallback live in socket_dgram.cc.
#pragma once
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace rl {

#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC) && !defined(RINGLOOP_PORTABLE_SOCKETS)
#define RL_ATOMIC_SOCKET_FLAGS 1
#endif

// What a write passes to send/sendmsg: MSG_NOSIGNAL where it exists (Linux, FreeBSD), else
// nothing and setNoSigPipe covers the socket.
#if defined(MSG_NOSIGNAL)
constexpr int kSendFlags = MSG_NOSIGNAL;
#else
constexpr int kSendFlags = 0;
#endif

// Where the OS has no MSG_NOSIGNAL (macOS), SIGPIPE is a per-socket option; elsewhere a no-op,
// so no extra syscall.
inline void setNoSigPipe(int fd) {
#if !defined(MSG_NOSIGNAL) && defined(SO_NOSIGPIPE)
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#else
  (void)fd;
#endif
}

// Non-blocking and close-on-exec after the fact, for systems that cannot ask at creation.
// Closes fd on failure. Returns fd or -1 (errno set), like the calls it follows.
inline int finishSocket(int fd) {
  if (fd < 0) return fd;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  setNoSigPipe(fd);
  return fd;
}

// socket(2), non-blocking and close-on-exec. Returns fd or -1 (errno set).
inline int socketNonBlocking(int domain, int type) {
#ifdef RL_ATOMIC_SOCKET_FLAGS
  return socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
  return finishSocket(socket(domain, type, 0));
#endif
}

// accept(2) without the peer address, non-blocking and close-on-exec. Returns fd or -1.
// macOS has no accept4: a fork+exec on another thread between accept and fcntl could inherit
// the fd, the same window libuv's own accept has there.
inline int acceptNonBlocking(int lfd) {
#ifdef RL_ATOMIC_SOCKET_FLAGS
  return accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
  return finishSocket(accept(lfd, nullptr, nullptr));
#endif
}

// SO_REUSEPORT with the meaning reusePort promises: the kernel spreads connections over the
// listeners. Linux does that; FreeBSD 12+ only with SO_REUSEPORT_LB. macOS, OpenBSD and
// NetBSD accept SO_REUSEPORT but do not balance (one listener tends to get every connection),
// so there reusePort only lets the sockets share the port: prefer the acceptor.
inline int setReusePort(int fd) {
  int one = 1;
#if defined(SO_REUSEPORT_LB)
  return setsockopt(fd, SOL_SOCKET, SO_REUSEPORT_LB, &one, sizeof one);
#else
  return setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
#endif
}

// Idle time before the first keep-alive probe: TCP_KEEPIDLE (Linux, FreeBSD) is called
// TCP_KEEPALIVE on macOS.
// The keep-alive idle time, read back (-1 if unavailable).
inline int getKeepAliveIdle(int fd) {
  int v = -1;
  socklen_t l = sizeof v;
#if defined(TCP_KEEPIDLE)
  getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, &l);
#else
  getsockopt(fd, IPPROTO_TCP, TCP_KEEPALIVE, &v, &l);
#endif
  return v;
}

inline int setKeepAliveIdle(int fd, int sec) {
#if defined(TCP_KEEPIDLE)
  return setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &sec, sizeof sec);
#else
  return setsockopt(fd, IPPROTO_TCP, TCP_KEEPALIVE, &sec, sizeof sec);
#endif
}

}  // namespace rl
