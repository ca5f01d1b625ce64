// Datagram (UDP) helpers: batched receive and send (recvmmsg/sendmmsg where the kernel has them,
// one recvmsg/sendmsg per datagram elsewhere), and the fixed 32-byte peer-address record that
// travels through the read arena, the out arena and the inbox, so JS never sees a platform's
// sockaddr layout. Every call returns -errno on failure.
#pragma once
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace rl {

// Peer record: [0] family 4 or 6, [1] 0, [2..3] port (network order), [4..19] address (4 or 16
// bytes), [20..23] IPv6 scope id (little-endian), [24..31] 0. Must match lib/peer.ts.
constexpr size_t kPeerBytes = 32;

// Writes the record for ss; false if ss is not IPv4/IPv6.
bool peerEncode(const sockaddr_storage& ss, uint8_t* out);
// Reads a record back into a sockaddr; returns its length, 0 if the record is invalid.
socklen_t peerDecode(const uint8_t* in, sockaddr_storage* ss);
// "host:port", IPv6 as "[host]:port" (the form Conn.remoteAddr uses); "" if invalid.
std::string peerFormat(const uint8_t* in);
// Parses "host:port" / "[v6]:port" with a numeric host; false if it is not one.
bool peerParse(const std::string& s, uint8_t* out);

struct DgramIn {
  uint8_t* data;  // where the payload goes
  size_t cap;
  size_t len;       // received length (may exceed cap when truncated)
  bool truncated;   // larger than cap: the tail was discarded by the kernel
  sockaddr_storage from;
};

struct DgramOut {
  const iovec* iov;
  int iovcnt;
  sockaddr_storage to;
  socklen_t tolen;
};

// Receives up to n datagrams without blocking. Returns how many (0 = none waiting) or -errno.
int dgramRecvBatch(int fd, DgramIn* in, int n);
// Sends up to n datagrams. Returns how many were sent (>= 1), or -errno for the first one's failure.
int dgramSendBatch(int fd, const DgramOut* out, int n);
// Reads and clears a pending socket error (an ICMP report); returns it (0 = none).
int dgramTakeError(int fd);

}  // namespace rl
