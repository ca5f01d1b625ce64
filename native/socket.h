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
  bool reuseAddr = true;
  bool dgram = false;  // a UDP socket: bound, not listening
};

// Binds and (for streams) listens; on success returns the fd and stores the bound port (port 0 resolved).
int sockListen(const ListenSpec& spec, int* boundPort);
// Accepts up to max connections (non-blocking, close-on-exec). Returns how many were accepted; if
// none were and the first accept failed with something other than EAGAIN, returns -errno.
int sockAcceptBatch(int lfd, int* out, int max);
// Options applied to every accepted connection. Zero means "leave the system default".
struct SockOptions {
  bool noDelay = true;
  int keepAliveIdleSec = 0;      // > 0 turns keep-alive on
  int keepAliveIntervalSec = 0;  // default: the idle time
  int keepAliveCount = 0;
  int recvBuf = 0;  // SO_RCVBUF
  int sendBuf = 0;  // SO_SNDBUF
};
int sockConfigure(int fd, const SockOptions& o);
// Reads the options back (diagnostics and tests); keepAliveIdleSec is 0 when keep-alive is off.
int sockInspect(int fd, SockOptions* o);
ssize_t sockRead(int fd, void* buf, size_t n);
ssize_t sockWritev(int fd, const iovec* iov, int cnt);
int sockShutdownWrite(int fd);
int sockClose(int fd);
// "host:port" (IPv6 as "[h]:port") or the path of a Unix socket; "" when unknown.
std::string sockAddress(int fd, bool peer);

}  // namespace rl
