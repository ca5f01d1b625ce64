// Non-blocking socket helpers. Every call returns -errno on failure (never throws, never raises
// SIGPIPE: writes use MSG_NOSIGNAL, or SO_NOSIGPIPE is set on each socket where that is the only
// way; platform differences live in socket_compat.h).
#pragma once
#include <sys/types.h>
#include <sys/uio.h>

#include <string>

namespace rl {

struct ListenSpec {
  int family;        // 4, 6, or 0 for a Unix path
  std::string host;  // numeric address ("" = any), or the socket path
  int port;
  int backlog;
  bool reusePort;
};

// Binds and listens; on success returns the fd and stores the bound port (port 0 resolved).
int sockListen(const ListenSpec& spec, int* boundPort);
// Accepts up to max connections (non-blocking, close-on-exec). Returns how many were accepted; if
// none were and the first accept failed with something other than EAGAIN, returns -errno.
int sockAcceptBatch(int lfd, int* out, int max);
// keepAliveSec <= 0 disables keep-alive.
int sockConfigure(int fd, bool noDelay, int keepAliveSec);
ssize_t sockRead(int fd, void* buf, size_t n);
ssize_t sockWritev(int fd, const iovec* iov, int cnt);
int sockShutdownWrite(int fd);
int sockClose(int fd);
// "host:port" (IPv6 as "[h]:port") or the path of a Unix socket; "" when unknown.
std::string sockAddress(int fd, bool peer);

}  // namespace rl
