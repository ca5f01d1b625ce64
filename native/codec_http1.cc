// The HTTP/1.1 request framer (RFC 9112): request line and header fields, with the same strictness
// as the example's JS parser (examples/http/parser.ts, the reference the fuzz test compares
// against), and bodies framed by Content-Length. What it leaves to the handler (kFallback): a
// Transfer-Encoding request (chunked bodies are decoded by the handler, which also answers the
// codings it does not support), and an `Expect: 100-continue` request whose body has not all
// arrived (the handler decides whether to send 100 Continue). A malformed request or one over a
// limit is kError with the status a server answers (400, 413, 431, 505) at its first byte.
#include <cstring>

#include "codec.h"

namespace rl {
namespace codec {

namespace {

struct Tables {
  uint8_t token[256];
  uint8_t value[256];
  uint8_t target[256];
  Tables() {
    const char* tc = "!#$%&'*+-.^_`|~";
    for (int b = 0; b < 256; b++) {
      bool alnum = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
      token[b] = alnum || (b != 0 && strchr(tc, b) != nullptr);
      value[b] = b == '\t' || (b >= 0x20 && b <= 0x7e) || b >= 0x80;
      target[b] = b >= 0x21 && b <= 0x7e;
    }
  }
};
const Tables T;

inline uint8_t lower(uint8_t b) { return (b >= 'A' && b <= 'Z') ? (b | 0x20) : b; }

// Case-insensitive compare of d[s, e) with a lowercase literal.
bool eqLower(const uint8_t* d, size_t s, size_t e, const char* lit, size_t n) {
  if (e - s != n) return false;
  for (size_t i = 0; i < n; i++)
    if (lower(d[s + i]) != static_cast<uint8_t>(lit[i])) return false;
  return true;
}

int methodCode(const uint8_t* d, size_t s, size_t e) {
  static const struct {
    const char* name;
    int code;
  } kMethods[] = {{"GET", 1}, {"HEAD", 2}, {"POST", 3}, {"PUT", 4}, {"DELETE", 5},
                  {"OPTIONS", 6}, {"PATCH", 7}, {"CONNECT", 8}, {"TRACE", 9}};
  size_t n = e - s;
  for (const auto& m : kMethods)
    if (strlen(m.name) == n && memcmp(d + s, m.name, n) == 0) return m.code;
  return 0;
}

// The head line starting at p: true with its '\n' at *nl, else false with what request() returns
// in *status (the head is incomplete, or too large: 431, or a bare LF: 400, in *detail).
static bool headLine(const uint8_t* d, size_t len, size_t p, size_t maxHead, size_t* nl, int* status, int32_t* detail) {
  const void* nlp = memchr(d + p, '\n', len - p);
  if (!nlp) {
    *detail = len > maxHead ? 431 : 1;
    *status = len > maxHead ? kError : kOk;
    return false;
  }
  *nl = static_cast<size_t>(static_cast<const uint8_t*>(nlp) - d);
  if (*nl + 1 > maxHead || *nl == p || d[*nl - 1] != '\r') {
    *detail = *nl + 1 > maxHead ? 431 : 400;
    *status = kError;
    return false;
  }
  return true;
}

// One request starting at data[at]. Returns kOk with *end set (complete), kOk with *end = 0
// (incomplete: *detail 1 head, 2 body), kFallback, or kError (*detail = status). Records go to
// rec[0..) (room checked by the caller for the fixed part plus maxHeaders fields).
int request(const Spec& s, const uint8_t* d, size_t len, size_t at, int32_t* rec, size_t* end, int32_t* detail) {
  size_t maxHead = at + s.maxHeaderBytes;
  size_t p = at;
  *end = 0;
  // Request line, after any empty lines.
  size_t le;
  for (;;) {
    size_t nl;
    int st;
    if (!headLine(d, len, p, maxHead, &nl, &st, detail)) return st;
    le = nl - 1;
    if (le > p) break;
    p = nl + 1;
  }
  size_t i = p;
  while (i < le && T.token[d[i]]) i++;
  if (i == p || i == le || d[i] != ' ') return *detail = 400, kError;
  size_t ms = p, me = i;
  size_t ts = ++i;
  while (i < le && T.target[d[i]]) i++;
  if (i == ts || i == le || d[i] != ' ') return *detail = 400, kError;
  size_t te = i;
  size_t v = i + 1;
  if (le - v != 8 || memcmp(d + v, "HTTP/", 5) != 0) return *detail = 400, kError;
  int major = d[v + 5] - '0', minor = d[v + 7] - '0';
  if (major < 0 || major > 9 || minor < 0 || minor > 9 || d[v + 6] != '.') return *detail = 400, kError;
  if (major != 1 || minor > 1) return *detail = 505, kError;
  int version = minor == 1 ? 11 : 10;
  size_t ps = ts;
  if (d[ts] != '/') {
    size_t skip = 0;
    if (te - ts >= 7 && eqLower(d, ts, ts + 7, "http://", 7)) skip = 7;
    else if (te - ts >= 8 && eqLower(d, ts, ts + 8, "https://", 8)) skip = 8;
    if (skip) {
      ps = ts + skip;
      while (ps < te && d[ps] != '/' && d[ps] != '?') ps++;
    }
  }
  size_t pe = ps;
  while (pe < te && d[pe] != '?') pe++;
  p = le + 2;

  // Header fields.
  int32_t nh = 0, contentType = -1, hosts = 0;
  int64_t contentLength = -1;
  bool te_ = false, expect = false, connClose = false, connKeepAlive = false;
  int32_t* h = rec + kHttpFixedInts;
  for (;;) {
    size_t nl;
    int st;
    if (!headLine(d, len, p, maxHead, &nl, &st, detail)) return st;
    size_t fe = nl - 1;
    if (fe == p) {
      p = nl + 1;
      break;
    }
    if (d[p] == ' ' || d[p] == '\t') return *detail = 400, kError;
    size_t k = p;
    while (k < fe && T.token[d[k]]) k++;
    if (k == p || k == fe || d[k] != ':') return *detail = 400, kError;
    size_t ne = k;
    size_t vs = k + 1;
    while (vs < fe && (d[vs] == ' ' || d[vs] == '\t')) vs++;
    size_t ve = fe;
    while (ve > vs && (d[ve - 1] == ' ' || d[ve - 1] == '\t')) ve--;
    for (size_t x = vs; x < ve; x++)
      if (!T.value[d[x]]) return *detail = 400, kError;
    if (static_cast<uint32_t>(nh) >= s.maxHeaders) return *detail = 431, kError;
    int32_t* f = h + 4 * nh;
    f[0] = static_cast<int32_t>(p);
    f[1] = static_cast<int32_t>(ne);
    f[2] = static_cast<int32_t>(vs);
    f[3] = static_cast<int32_t>(ve);
    switch (ne - p) {
      case 4:
        if (eqLower(d, p, ne, "host", 4)) hosts++;
        break;
      case 6:
        if (eqLower(d, p, ne, "expect", 6) && eqLower(d, vs, ve, "100-continue", 12)) expect = true;
        break;
      case 10:
        if (eqLower(d, p, ne, "connection", 10)) {
          size_t x = vs;
          while (x < ve) {
            while (x < ve && (d[x] == ' ' || d[x] == '\t' || d[x] == ',')) x++;
            size_t a = x;
            while (x < ve && d[x] != ',') x++;
            size_t b = x;
            while (b > a && (d[b - 1] == ' ' || d[b - 1] == '\t')) b--;
            if (eqLower(d, a, b, "close", 5)) connClose = true;
            else if (eqLower(d, a, b, "keep-alive", 10)) connKeepAlive = true;
          }
        }
        break;
      case 12:
        if (eqLower(d, p, ne, "content-type", 12)) contentType = nh;
        break;
      case 14:
        if (eqLower(d, p, ne, "content-length", 14)) {
          if (vs == ve) return *detail = 400, kError;
          int64_t n = 0;
          for (size_t x = vs; x < ve; x++) {
            unsigned dg = static_cast<unsigned>(d[x]) - '0';
            if (dg > 9) return *detail = 400, kError;
            n = n > 1000000000000000ll ? n : n * 10 + dg;
          }
          if (contentLength >= 0 && contentLength != n) return *detail = 400, kError;
          contentLength = n;
        }
        break;
      case 17:
        if (eqLower(d, p, ne, "transfer-encoding", 17)) te_ = true;
        break;
    }
    nh++;
    p = nl + 1;
  }
  if (hosts > 1) return *detail = 400, kError;
  if (version == 11 && hosts == 0) return *detail = 400, kError;
  if (te_) return kFallback;
  if (contentLength > static_cast<int64_t>(s.maxBodyBytes)) return *detail = 413, kError;
  bool keepAlive = version == 11 ? !connClose : (connKeepAlive && !connClose);
  size_t body = contentLength > 0 ? static_cast<size_t>(contentLength) : 0;
  if (p + body > len) {
    if (expect && version == 11) return kFallback;
    return *detail = 2, kOk;
  }
  rec[0] = static_cast<int32_t>(p + body);
  rec[1] = methodCode(d, ms, me);
  rec[2] = keepAlive ? kFlagKeepAlive : 0;
  rec[3] = version;
  rec[4] = static_cast<int32_t>(ms);
  rec[5] = static_cast<int32_t>(me);
  rec[6] = static_cast<int32_t>(ts);
  rec[7] = static_cast<int32_t>(te);
  rec[8] = static_cast<int32_t>(ps);
  rec[9] = static_cast<int32_t>(pe);
  rec[10] = static_cast<int32_t>(p);
  rec[11] = static_cast<int32_t>(body);
  rec[12] = contentType;
  rec[13] = nh;
  *end = p + body;
  return kOk;
}

}  // namespace

void frameHttp1(const Spec& s, const uint8_t* data, size_t len, int32_t* table, size_t cap, size_t* pos, Group* g) {
  size_t at = 0;
  size_t most = kHttpFixedInts + 4 * static_cast<size_t>(s.maxHeaders);
  while (at < len) {
    if (*pos + most > cap) {
      g->status = (g->count > 0 || most + kGroupInts <= cap) ? kStopped : kFallback;
      return;
    }
    int32_t* rec = table + *pos;
    size_t end = 0;
    int32_t detail = 0;
    int st = request(s, data, len, at, rec, &end, &detail);
    if (st != kOk || end == 0) {
      g->status = st;
      g->detail = detail;
      return;
    }
    *pos += kHttpFixedInts + 4 * static_cast<size_t>(rec[13]);
    g->count++;
    at = end;
    g->consumed = at;
  }
}

}  // namespace codec
}  // namespace rl
