// The RESP2 command framer: arrays of bulk strings (`*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n`) and
// plain inline commands (`PING\r\n`), as redis reads them, with redis's limits. Each command's
// record holds its arguments' offsets and lengths in the window, so the handler runs commands
// without walking bytes. What it leaves to the handler (kFallback): inline commands with quotes,
// control bytes or NULs (redis's sdssplitargs decodes those), and arrays too long for the table.
// A malformed command is kError (detail kErrProtocol / kErrTooManyArgs / kErrFrameTooLarge) at
// its first byte: the handler's own parser gives the message redis would answer.
#include <cstring>

#include "codec.h"

namespace rl {
namespace codec {

// redis's PROTO_INLINE_MAX_SIZE: the longest `*n` / `$n` line or inline command.
static constexpr size_t kMaxLine = 64 * 1024;

// string2ll over [s, e): optional '-', no leading zeros, at most 20 bytes. False if invalid.
// Values past 2^53 are only compared against limits, where saturation is harmless.
static bool parseInt(const uint8_t* s, const uint8_t* e, int64_t* out) {
  size_t n = static_cast<size_t>(e - s);
  if (n == 0 || n > 20) return false;
  bool neg = false;
  if (*s == '-') {
    neg = true;
    s++;
    if (s == e) return false;
  }
  if (*s == '0') {
    if (s + 1 == e && !neg) {
      *out = 0;
      return true;
    }
    return false;
  }
  int64_t v = 0;
  for (; s < e; s++) {
    unsigned d = static_cast<unsigned>(*s) - '0';
    if (d > 9) return false;
    v = v > (1ll << 53) ? v : v * 10 + d;
  }
  *out = neg ? -v : v;
  return true;
}

// The header line starting at data[s] (after '*' or '$'): sets *lf to its LF. 1 found, 0
// incomplete, -1 malformed or too long (the JS reference: first CR anywhere after s).
static int headerLine(const uint8_t* data, size_t len, size_t s, size_t* lf) {
  const void* cr = memchr(data + s, '\r', len - s);
  size_t c = cr ? static_cast<size_t>(static_cast<const uint8_t*>(cr) - data) : 0;
  if (!cr || c - s > kMaxLine) return len - s > kMaxLine ? -1 : 0;
  if (c + 1 >= len) return 0;
  if (data[c + 1] != '\n') return -1;
  *lf = c + 1;
  return 1;
}

static inline bool plainInline(uint8_t b) {
  return b == ' ' || b == '\t' || (b > 0x20 && b < 0x7f && b != '"' && b != '\'') || b >= 0x80;
}

void frameResp(const Spec& s, const uint8_t* data, size_t len, int32_t* table, size_t cap, size_t* pos, Group* g) {
  size_t at = 0;
  while (at < len) {
    size_t rec = *pos;
    if (data[at] != '*') {
      // Inline: one line, arguments split on spaces and tabs.
      const void* nlp = memchr(data + at, '\n', len - at);
      size_t nl = nlp ? static_cast<size_t>(static_cast<const uint8_t*>(nlp) - data) : 0;
      if (!nlp || nl - at > kMaxLine) {
        if (len - at > kMaxLine) g->status = kError, g->detail = kErrFrameTooLarge;
        return;
      }
      size_t le = (nl > at && data[nl - 1] == '\r') ? nl - 1 : nl;
      for (size_t i = at; i < le; i++)
        if (!plainInline(data[i])) {
          g->status = kFallback;
          return;
        }
      // At most one argument per two bytes: check the room for the worst case once.
      size_t most = 1 + 2 * ((le - at + 1) / 2);
      if (rec + most > cap) {
        g->status = (g->count > 0 || most + kGroupInts <= cap) ? kStopped : kFallback;
        return;
      }
      int32_t argc = 0;
      size_t w = rec + 1;
      for (size_t i = at; i < le;) {
        while (i < le && (data[i] == ' ' || data[i] == '\t')) i++;
        if (i >= le) break;
        size_t b = i;
        while (i < le && data[i] != ' ' && data[i] != '\t') i++;
        table[w++] = static_cast<int32_t>(b);
        table[w++] = static_cast<int32_t>(i - b);
        argc++;
      }
      table[rec] = argc;
      *pos = w;
      g->count++;
      at = nl + 1;
      g->consumed = at;
      continue;
    }
    size_t lf;
    int r = headerLine(data, len, at + 1, &lf);
    if (r < 0) {
      g->status = kError, g->detail = kErrProtocol;
      return;
    }
    if (r == 0) return;
    int64_t n;
    if (!parseInt(data + at + 1, data + lf - 1, &n)) {
      g->status = kError, g->detail = kErrProtocol;
      return;
    }
    if (n > static_cast<int64_t>(s.maxArgs)) {
      g->status = kError, g->detail = kErrTooManyArgs;
      return;
    }
    if (n <= 0) {  // `*0`, `*-1`: nothing to run
      if (rec + 1 > cap) {
        g->status = kStopped;
        return;
      }
      table[(*pos)++] = 0;
      g->count++;
      at = lf + 1;
      g->consumed = at;
      continue;
    }
    size_t need = 1 + 2 * static_cast<size_t>(n);
    if (rec + need > cap) {
      // Too long for what is left of the table this round: the next round's fresh table, or, if
      // it could never fit, the handler's own parser.
      g->status = (g->count > 0 || need + kGroupInts <= cap) ? kStopped : kFallback;
      return;
    }
    size_t p = lf + 1;
    size_t w = rec + 1;
    int64_t argc = 0;
    for (; argc < n; argc++) {
      if (p >= len) return;
      if (data[p] != '$') {
        g->status = kError, g->detail = kErrProtocol;
        return;
      }
      r = headerLine(data, len, p + 1, &lf);
      if (r < 0) {
        g->status = kError, g->detail = kErrProtocol;
        return;
      }
      if (r == 0) return;
      int64_t bl;
      if (!parseInt(data + p + 1, data + lf - 1, &bl) || bl < 0) {
        g->status = kError, g->detail = kErrProtocol;
        return;
      }
      if (bl > static_cast<int64_t>(s.maxBulk)) {
        g->status = kError, g->detail = kErrFrameTooLarge;
        return;
      }
      size_t ds = lf + 1;
      size_t blen = static_cast<size_t>(bl);
      if (ds + blen + 2 > len) return;
      if (data[ds + blen] != '\r' || data[ds + blen + 1] != '\n') {
        g->status = kError, g->detail = kErrProtocol;
        return;
      }
      table[w++] = static_cast<int32_t>(ds);
      table[w++] = static_cast<int32_t>(blen);
      p = ds + blen + 2;
    }
    table[rec] = static_cast<int32_t>(n);
    *pos = w;
    g->count++;
    at = p;
    g->consumed = at;
  }
}

}  // namespace codec
}  // namespace rl
