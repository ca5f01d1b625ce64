#include "socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "socket_compat.h"

namespace rl {

static int fail(int fd) {
  int e = errno;
  if (fd >= 0) close(fd);
  return -e;
}

int sockListen(const ListenSpec& spec, int* boundPort) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int domain;
  if (spec.family == 0) {
    auto* un = reinterpret_cast<sockaddr_un*>(&ss);
    if (spec.host.size() >= sizeof un->sun_path) return -ENAMETOOLONG;
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, spec.host.c_str(), spec.host.size() + 1);
    len = sizeof(sockaddr_un);
    domain = AF_UNIX;
  } else if (spec.family == 6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<uint16_t>(spec.port));
    if (spec.host.empty()) in6->sin6_addr = in6addr_any;
    else if (inet_pton(AF_INET6, spec.host.c_str(), &in6->sin6_addr) != 1) return -EINVAL;
    len = sizeof(sockaddr_in6);
    domain = AF_INET6;
  } else {
    auto* in4 = reinterpret_cast<sockaddr_in*>(&ss);
    in4->sin_family = AF_INET;
    in4->sin_port = htons(static_cast<uint16_t>(spec.port));
    if (spec.host.empty()) in4->sin_addr.s_addr = htonl(INADDR_ANY);
    else if (inet_pton(AF_INET, spec.host.c_str(), &in4->sin_addr) != 1) return -EINVAL;
    len = sizeof(sockaddr_in);
    domain = AF_INET;
  }
  if (spec.dgram && domain == AF_UNIX) return -EPROTONOSUPPORT;
  int fd = socketNonBlocking(domain, spec.dgram ? SOCK_DGRAM : SOCK_STREAM);
  if (fd < 0) return -errno;
  int one = 1;
  if (domain != AF_UNIX) {
    if (spec.reuseAddr && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) return fail(fd);
    if (spec.reusePort && setReusePort(fd) < 0) return fail(fd);
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) return fail(fd);
  if (!spec.dgram && listen(fd, spec.backlog > 0 ? spec.backlog : SOMAXCONN) < 0) return fail(fd);
  *boundPort = 0;
  if (domain != AF_UNIX) {
    sockaddr_storage got{};
    socklen_t gl = sizeof got;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&got), &gl) < 0) return fail(fd);
    *boundPort = domain == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&got)->sin6_port)
                                    : ntohs(reinterpret_cast<sockaddr_in*>(&got)->sin_port);
  }
  return fd;
}

int sockAcceptBatch(int lfd, int* out, int max) {
  int n = 0;
  while (n < max) {
    int fd = acceptNonBlocking(lfd);
    if (fd >= 0) {
      out[n++] = fd;
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    return n > 0 ? n : -errno;
  }
  return n;
}

int sockConfigure(int fd, const SockOptions& o) {
  if (o.recvBuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o.recvBuf, sizeof o.recvBuf) < 0) return -errno;
  if (o.sendBuf > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &o.sendBuf, sizeof o.sendBuf) < 0) return -errno;
  sockaddr_storage ss{};
  socklen_t sl = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &sl) < 0) return -errno;
  if (ss.ss_family == AF_UNIX) return 0;
  int type = 0;
  socklen_t tl = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_DGRAM) return 0;  // buffers only
  int v = o.noDelay ? 1 : 0;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) < 0) return -errno;
  if (o.keepAliveIdleSec > 0) {
    int one = 1;
    int intvl = o.keepAliveIntervalSec > 0 ? o.keepAliveIntervalSec : o.keepAliveIdleSec;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) < 0) return -errno;
    if (setKeepAliveIdle(fd, o.keepAliveIdleSec) < 0) return -errno;
    if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl) < 0) return -errno;
    if (o.keepAliveCount > 0 &&
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &o.keepAliveCount, sizeof o.keepAliveCount) < 0)
      return -errno;
  }
  return 0;
}

int sockInspect(int fd, SockOptions* o) {
  auto get = [fd](int level, int name) {
    int v = 0;
    socklen_t l = sizeof v;
    return getsockopt(fd, level, name, &v, &l) == 0 ? v : -1;
  };
  o->recvBuf = get(SOL_SOCKET, SO_RCVBUF);
  o->sendBuf = get(SOL_SOCKET, SO_SNDBUF);
  if (o->recvBuf < 0) return -errno;
  sockaddr_storage ss{};
  socklen_t sl = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &sl) < 0) return -errno;
  if (ss.ss_family == AF_UNIX) return 0;
  o->noDelay = get(IPPROTO_TCP, TCP_NODELAY) > 0;
  bool ka = get(SOL_SOCKET, SO_KEEPALIVE) > 0;
  o->keepAliveIdleSec = ka ? getKeepAliveIdle(fd) : 0;
  o->keepAliveIntervalSec = ka ? get(IPPROTO_TCP, TCP_KEEPINTVL) : 0;
  o->keepAliveCount = ka ? get(IPPROTO_TCP, TCP_KEEPCNT) : 0;
  return 0;
}

// recv and send rather than read and sendmsg when one buffer will do: they go straight to the
// socket layer (read passes through the VFS, sendmsg copies in a msghdr and an iovec array, each
// checked by the hardened usercopy), which was ~4% of a Unix-socket echo server's samples.
// A descriptor that is not a socket (ENOTSOCK) is still read as a file; writes go through send
// either way (MSG_NOSIGNAL: no SIGPIPE).
ssize_t sockRead(int fd, void* buf, size_t n) {
  ssize_t r;
  do {
    r = recv(fd, buf, n, 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0 && errno == ENOTSOCK) {
    do {
      r = read(fd, buf, n);
    } while (r < 0 && errno == EINTR);
  }
  return r < 0 ? -errno : r;
}

ssize_t sockWritev(int fd, const iovec* iov, int cnt) {
  ssize_t r;
  if (cnt == 1) {
    do {
      r = send(fd, iov[0].iov_base, iov[0].iov_len, kSendFlags);
    } while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
  }
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(iov);
  msg.msg_iovlen = cnt;
  do {
    r = sendmsg(fd, &msg, kSendFlags);
  } while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : r;
}

int sockShutdownWrite(int fd) { return shutdown(fd, SHUT_WR) == 0 ? 0 : -errno; }

int sockClose(int fd) { return close(fd) == 0 ? 0 : -errno; }

std::string sockAddress(int fd, bool peer) {
  sockaddr_storage ss{};
  socklen_t sl = sizeof ss;
  int r = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &sl)
               : getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &sl);
  if (r < 0) return "";
  char buf[INET6_ADDRSTRLEN + 16];
  if (ss.ss_family == AF_INET) {
    auto* in4 = reinterpret_cast<sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &in4->sin_addr, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(ntohs(in4->sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
    return "[" + std::string(buf) + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  if (ss.ss_family == AF_UNIX) {
    auto* un = reinterpret_cast<sockaddr_un*>(&ss);
    return sl > offsetof(sockaddr_un, sun_path) ? std::string(un->sun_path) : "";
  }
  return "";
}

}  // namespace rl
