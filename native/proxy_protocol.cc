#include "proxy_protocol.h"

#include <arpa/inet.h>

#include <cstring>

namespace rl {

static const uint8_t kSigV2[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
static const char kSigV1[] = "PROXY ";

// Is p[0..n) a prefix of sig (or sig a prefix of p)?
static bool prefixOf(const uint8_t* p, size_t n, const uint8_t* sig, size_t sigLen) {
  return memcmp(p, sig, n < sigLen ? n : sigLen) == 0;
}

static std::string hostPort(int family, const void* addr, uint16_t port) {
  char buf[INET6_ADDRSTRLEN];
  if (!inet_ntop(family, addr, buf, sizeof buf)) return "";
  std::string h(buf);
  if (family == AF_INET6) h = "[" + h + "]";
  return h + ":" + std::to_string(port);
}

// A decimal port with no sign, no leading zero (except "0"), at most 65535.
static bool parsePort(const std::string& s, uint16_t* port) {
  if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) return false;
  unsigned v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return false;
    v = v * 10 + static_cast<unsigned>(ch - '0');
  }
  if (v > 65535) return false;
  *port = static_cast<uint16_t>(v);
  return true;
}

static ProxyParse bad(std::string* reason, const char* why) {
  *reason = why;
  return ProxyParse::kBad;
}

static ProxyParse parseV1(const uint8_t* p, size_t n, ProxyHeader* out, size_t* used, std::string* reason) {
  const uint8_t* lf = static_cast<const uint8_t*>(memchr(p, '\n', n < kProxyV1Max ? n : kProxyV1Max));
  if (!lf) {
    if (n >= kProxyV1Max) return bad(reason, "PROXY v1 header longer than 107 bytes");
    return ProxyParse::kNeedMore;
  }
  size_t len = static_cast<size_t>(lf - p) + 1;
  if (len < 2 || p[len - 2] != '\r') return bad(reason, "PROXY v1 header not ended by CRLF");
  std::string line(reinterpret_cast<const char*>(p), len - 2);
  // Fields split by single spaces: PROXY <proto> [<src> <dst> <sport> <dport>]
  std::string f[7];
  int nf = 0;
  size_t start = 0;
  for (size_t i = 0; i <= line.size(); i++) {
    if (i == line.size() || line[i] == ' ') {
      if (nf == 7) return bad(reason, "PROXY v1 header has too many fields");
      f[nf++] = line.substr(start, i - start);
      start = i + 1;
    }
  }
  out->version = 1;
  *used = len;
  if (nf >= 2 && f[1] == "UNKNOWN") {
    out->local = true;  // the receiver must ignore anything after UNKNOWN
    return ProxyParse::kDone;
  }
  if (nf != 6) return bad(reason, "PROXY v1 header must have 6 fields");
  int family = f[1] == "TCP4" ? AF_INET : f[1] == "TCP6" ? AF_INET6 : 0;
  if (!family) return bad(reason, "PROXY v1 protocol must be TCP4, TCP6 or UNKNOWN");
  uint8_t src[16], dst[16];
  uint16_t sp, dp;
  if (inet_pton(family, f[2].c_str(), src) != 1 || inet_pton(family, f[3].c_str(), dst) != 1)
    return bad(reason, "PROXY v1 header has a malformed address");
  if (!parsePort(f[4], &sp) || !parsePort(f[5], &dp)) return bad(reason, "PROXY v1 header has a malformed port");
  out->source = hostPort(family, src, sp);
  out->dest = hostPort(family, dst, dp);
  return ProxyParse::kDone;
}

static ProxyParse parseV2(const uint8_t* p, size_t n, ProxyHeader* out, size_t* used, std::string* reason) {
  if (n < 16) return ProxyParse::kNeedMore;
  if ((p[12] >> 4) != 2) return bad(reason, "PROXY v2 header has an unsupported version");
  int cmd = p[12] & 0x0F;
  if (cmd > 1) return bad(reason, "PROXY v2 header has an unknown command");
  size_t body = (static_cast<size_t>(p[14]) << 8) | p[15];
  if (body > kProxyV2MaxBody) return bad(reason, "PROXY v2 header longer than the 4096-byte cap");
  if (n < 16 + body) return ProxyParse::kNeedMore;
  const uint8_t* b = p + 16;
  int fam = p[13] >> 4, proto = p[13] & 0x0F;
  size_t alen = 0;
  out->version = 2;
  out->local = cmd == 0;
  if (fam > 3 || proto > 2) return bad(reason, "PROXY v2 header has an unknown address family");
  if (!out->local && fam != 0) {
    if (proto == 0) return bad(reason, "PROXY v2 header has an unspecified transport");
    if (fam == 1) {
      alen = 12;
      if (body < alen) return bad(reason, "PROXY v2 header too short for IPv4 addresses");
      out->source = hostPort(AF_INET, b, static_cast<uint16_t>((b[8] << 8) | b[9]));
      out->dest = hostPort(AF_INET, b + 4, static_cast<uint16_t>((b[10] << 8) | b[11]));
    } else if (fam == 2) {
      alen = 36;
      if (body < alen) return bad(reason, "PROXY v2 header too short for IPv6 addresses");
      out->source = hostPort(AF_INET6, b, static_cast<uint16_t>((b[32] << 8) | b[33]));
      out->dest = hostPort(AF_INET6, b + 16, static_cast<uint16_t>((b[34] << 8) | b[35]));
    } else {
      alen = 216;
      if (body < alen) return bad(reason, "PROXY v2 header too short for Unix addresses");
      out->source.assign(reinterpret_cast<const char*>(b), strnlen(reinterpret_cast<const char*>(b), 108));
      out->dest.assign(reinterpret_cast<const char*>(b + 108), strnlen(reinterpret_cast<const char*>(b + 108), 108));
    }
  } else if (fam == 1) {
    alen = body < 12 ? body : 12;  // LOCAL may still carry addresses: skipped
  } else if (fam == 2) {
    alen = body < 36 ? body : 36;
  } else if (fam == 3) {
    alen = body < 216 ? body : 216;
  }
  // TLVs: each type (1), length (2, big-endian), value; they must tile the rest exactly.
  size_t i = alen;
  while (i < body) {
    if (body - i < 3) return bad(reason, "PROXY v2 header has a truncated TLV");
    size_t tl = (static_cast<size_t>(b[i + 1]) << 8) | b[i + 2];
    if (body - i - 3 < tl) return bad(reason, "PROXY v2 header has a TLV longer than the header");
    i += 3 + tl;
  }
  out->tlvs.assign(reinterpret_cast<const char*>(b + alen), body - alen);
  *used = 16 + body;
  return ProxyParse::kDone;
}

ProxyParse proxyParse(const uint8_t* p, size_t n, ProxyHeader* out, size_t* used, std::string* reason) {
  *used = 0;
  if (n == 0) return ProxyParse::kNeedMore;
  if (prefixOf(p, n, kSigV2, sizeof kSigV2)) {
    if (n < sizeof kSigV2) return ProxyParse::kNeedMore;
    return parseV2(p, n, out, used, reason);
  }
  if (prefixOf(p, n, reinterpret_cast<const uint8_t*>(kSigV1), 6)) {
    if (n < 6) return ProxyParse::kNeedMore;
    return parseV1(p, n, out, used, reason);
  }
  return ProxyParse::kNotProxy;
}

}  // namespace rl
