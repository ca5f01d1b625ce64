// The PROXY protocol (versions 1 and 2, as HAProxy specifies it): the header a proxy or load
// balancer sends before the client's bytes to pass on the client's address. Pure parsing, no
// sockets: the reactor (reactor_dial.cc) feeds it what it has read so far.
//
// Bounds: a v1 header is at most 107 bytes (the specification's limit, CRLF included); a v2
// header is 16 bytes plus its length field, which we cap at kProxyV2MaxBody (addresses and TLVs;
// the format allows 65,535, but no balancer sends more than a few hundred, and the cap bounds the
// memory a connection can hold before it is opened). Anything longer is refused.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace rl {

constexpr size_t kProxyV1Max = 107;
constexpr size_t kProxyV2MaxBody = 4096;
constexpr size_t kProxyMax = 16 + kProxyV2MaxBody;

struct ProxyHeader {
  int version = 0;      // 1 or 2
  bool local = false;   // v2 LOCAL or v1 UNKNOWN: the connection's own addresses stand
  std::string source;   // "host:port" ("[h]:port" for IPv6) or a Unix path; "" if local
  std::string dest;
  std::string tlvs;     // v2: the raw TLV bytes (type, length BE16, value)...
};

enum class ProxyParse {
  kDone,      // a whole header of *used bytes
  kNeedMore,  // every byte so far is a prefix of a valid header: read more
  kNotProxy,  // the bytes do not begin a PROXY header (the first *used bytes may still be kept)
  kBad,       // a malformed or oversized header; *reason says why
};

// Parses the start of a connection's input. On kDone, *used is the header's length and *out is
// filled. On kBad, *reason is set.
ProxyParse proxyParse(const uint8_t* p, size_t n, ProxyHeader* out, size_t* used, std::string* reason);

}  // namespace rl
