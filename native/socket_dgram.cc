#include "socket_dgram.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <cstdlib>

#include "socket_compat.h"

namespace rl {

static constexpr int kMaxBatch = 64;

bool peerEncode(const sockaddr_storage& ss, uint8_t* out) {
  memset(out, 0, kPeerBytes);
  if (ss.ss_family == AF_INET) {
    auto* in4 = reinterpret_cast<const sockaddr_in*>(&ss);
    out[0] = 4;
    memcpy(out + 2, &in4->sin_port, 2);
    memcpy(out + 4, &in4->sin_addr, 4);
    return true;
  }
  if (ss.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    out[0] = 6;
    memcpy(out + 2, &in6->sin6_port, 2);
    memcpy(out + 4, &in6->sin6_addr, 16);
    uint32_t scope = in6->sin6_scope_id;
    for (int i = 0; i < 4; i++) out[20 + i] = static_cast<uint8_t>(scope >> (8 * i));
    return true;
  }
  return false;
}

socklen_t peerDecode(const uint8_t* in, sockaddr_storage* ss) {
  memset(ss, 0, sizeof *ss);
  if (in[0] == 4) {
    auto* in4 = reinterpret_cast<sockaddr_in*>(ss);
    in4->sin_family = AF_INET;
    memcpy(&in4->sin_port, in + 2, 2);
    memcpy(&in4->sin_addr, in + 4, 4);
    return sizeof(sockaddr_in);
  }
  if (in[0] == 6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(ss);
    in6->sin6_family = AF_INET6;
    memcpy(&in6->sin6_port, in + 2, 2);
    memcpy(&in6->sin6_addr, in + 4, 16);
    uint32_t scope = 0;
    for (int i = 0; i < 4; i++) scope |= static_cast<uint32_t>(in[20 + i]) << (8 * i);
    in6->sin6_scope_id = scope;
    return sizeof(sockaddr_in6);
  }
  return 0;
}

std::string peerFormat(const uint8_t* in) {
  char buf[INET6_ADDRSTRLEN];
  uint16_t port = static_cast<uint16_t>((in[2] << 8) | in[3]);
  if (in[0] == 4 && inet_ntop(AF_INET, in + 4, buf, sizeof buf)) return std::string(buf) + ":" + std::to_string(port);
  if (in[0] == 6 && inet_ntop(AF_INET6, in + 4, buf, sizeof buf))
    return "[" + std::string(buf) + "]:" + std::to_string(port);
  return "";
}

bool peerParse(const std::string& s, uint8_t* out) {
  memset(out, 0, kPeerBytes);
  size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon + 1 >= s.size() || s.size() - colon > 6) return false;
  std::string host = s.substr(0, colon);
  char* end = nullptr;
  long port = strtol(s.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || port < 1 || port > 65535) return false;
  uint16_t p = htons(static_cast<uint16_t>(port));
  memcpy(out + 2, &p, 2);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    out[0] = 6;
    return inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), out + 4) == 1;
  }
  out[0] = 4;
  return inet_pton(AF_INET, host.c_str(), out + 4) == 1;
}

int dgramTakeError(int fd) {
  int err = 0;
  socklen_t l = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0) return errno;
  return err;
}

#if defined(__linux__) && !defined(RINGLOOP_PORTABLE_SOCKETS)

int dgramRecvBatch(int fd, DgramIn* in, int n) {
  mmsghdr msgs[kMaxBatch];
  iovec iov[kMaxBatch];
  if (n > kMaxBatch) n = kMaxBatch;
  for (int i = 0; i < n; i++) {
    iov[i] = iovec{in[i].data, in[i].cap};
    msgs[i].msg_hdr = msghdr{};
    msgs[i].msg_hdr.msg_name = &in[i].from;
    msgs[i].msg_hdr.msg_namelen = sizeof in[i].from;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int r;
  do {
    r = recvmmsg(fd, msgs, static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
  for (int i = 0; i < r; i++) {
    in[i].len = msgs[i].msg_len;
    in[i].truncated = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
  }
  return r;
}

int dgramSendBatch(int fd, const DgramOut* out, int n) {
  mmsghdr msgs[kMaxBatch];
  if (n > kMaxBatch) n = kMaxBatch;
  for (int i = 0; i < n; i++) {
    msgs[i].msg_hdr = msghdr{};
    msgs[i].msg_hdr.msg_name = const_cast<sockaddr_storage*>(&out[i].to);
    msgs[i].msg_hdr.msg_namelen = out[i].tolen;
    msgs[i].msg_hdr.msg_iov = const_cast<iovec*>(out[i].iov);
    msgs[i].msg_hdr.msg_iovlen = static_cast<size_t>(out[i].iovcnt);
  }
  int r;
  do {
    r = sendmmsg(fd, msgs, static_cast<unsigned>(n), kSendFlags);
  } while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : r;
}

#else  // one syscall per datagram: macOS and the BSDs have no recvmmsg/sendmmsg

int dgramRecvBatch(int fd, DgramIn* in, int n) {
  int got = 0;
  for (; got < n; got++) {
    iovec iov{in[got].data, in[got].cap};
    msghdr m{};
    m.msg_name = &in[got].from;
    m.msg_namelen = sizeof in[got].from;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    ssize_t r;
    do {
      r = recvmsg(fd, &m, 0);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return got > 0 ? got : -errno;
    }
    in[got].len = static_cast<size_t>(r);
    in[got].truncated = (m.msg_flags & MSG_TRUNC) != 0;
  }
  return got;
}

int dgramSendBatch(int fd, const DgramOut* out, int n) {
  int sent = 0;
  for (; sent < n; sent++) {
    msghdr m{};
    m.msg_name = const_cast<sockaddr_storage*>(&out[sent].to);
    m.msg_namelen = out[sent].tolen;
    m.msg_iov = const_cast<iovec*>(out[sent].iov);
    m.msg_iovlen = out[sent].iovcnt;
    ssize_t r;
    do {
      r = sendmsg(fd, &m, kSendFlags);
    } while (r < 0 && errno == EINTR);
    if (r < 0) return sent > 0 ? sent : -errno;
  }
  return sent;
}

#endif

}  // namespace rl
