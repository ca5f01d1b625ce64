// The four generic framers (line, delimiter, fixed length, length field, as gnet v1 had them) and
// frameAll, the entry point that writes a group for any codec. See codec.h for the table layout.
#include <cstring>

#include "codec.h"

namespace rl {
namespace codec {

size_t frameAll(const Spec& s, const uint8_t* data, size_t len, int32_t* table, size_t cap) {
  if (cap < static_cast<size_t>(kGroupInts)) return 0;
  Group g;
  size_t pos = kGroupInts;
  switch (s.type) {
    case kResp:
      frameResp(s, data, len, table, cap, &pos, &g);
      break;
    case kHttp1:
      frameHttp1(s, data, len, table, cap, &pos, &g);
      break;
    default:
      frameSimple(s, data, len, table, cap, &pos, &g);
      break;
  }
  table[0] = static_cast<int32_t>(len);
  table[1] = g.count;
  table[2] = static_cast<int32_t>(g.consumed);
  table[3] = g.status;
  table[4] = g.detail;
  return pos;
}

// Where the frame starting at data[at] ends and its payload lies; false if incomplete (or, with
// g->status set to kError, over a limit).
static bool nextSimple(const Spec& s, const uint8_t* data, size_t len, size_t at, size_t* ps, size_t* pe,
                       size_t* fe, Group* g) {
  const uint8_t* p = data + at;
  size_t avail = len - at;
  switch (s.type) {
    case kLine: {
      const void* nl = memchr(p, '\n', avail < s.maxFrame ? avail : s.maxFrame);
      if (!nl) {
        if (avail >= s.maxFrame) g->status = kError, g->detail = kErrFrameTooLarge;
        return false;
      }
      size_t e = static_cast<const uint8_t*>(nl) - data;
      *ps = at;
      *pe = (e > at && data[e - 1] == '\r') ? e - 1 : e;
      *fe = e + 1;
      return true;
    }
    case kDelimiter: {
      size_t dl = s.delimLen;
      size_t limit = avail < s.maxFrame ? avail : s.maxFrame;
      for (size_t i = 0; i + dl <= limit;) {
        const void* hit = memchr(p + i, s.delim[0], limit - dl + 1 - i);
        if (!hit) break;
        size_t k = static_cast<const uint8_t*>(hit) - p;
        if (memcmp(p + k, s.delim, dl) == 0) {
          *ps = at;
          *pe = at + k;
          *fe = at + k + dl;
          return true;
        }
        i = k + 1;
      }
      if (avail >= s.maxFrame) g->status = kError, g->detail = kErrFrameTooLarge;
      return false;
    }
    case kFixed:
      if (avail < s.size) return false;
      *ps = at;
      *pe = *fe = at + s.size;
      return true;
    case kLengthField: {
      size_t head = static_cast<size_t>(s.fieldOffset) + s.fieldLength;
      if (avail < head) return false;
      uint64_t v = 0;
      const uint8_t* f = p + s.fieldOffset;
      for (uint32_t i = 0; i < s.fieldLength; i++) {
        uint32_t b = s.bigEndian ? f[i] : f[s.fieldLength - 1 - i];
        v = (v << 8) | b;
      }
      int64_t frame = static_cast<int64_t>(head) + s.adjustment;
      if (v > (1ull << 40)) {
        g->status = kError, g->detail = kErrFrameTooLarge;
        return false;
      }
      frame += static_cast<int64_t>(v);
      if (frame < static_cast<int64_t>(head) || frame < static_cast<int64_t>(s.strip)) {
        // A length that puts the frame's end inside its own header: nothing can be framed after it.
        g->status = kError, g->detail = kErrProtocol;
        return false;
      }
      if (static_cast<uint64_t>(frame) > s.maxFrame) {
        g->status = kError, g->detail = kErrFrameTooLarge;
        return false;
      }
      if (avail < static_cast<size_t>(frame)) return false;
      *ps = at + s.strip;
      *pe = *fe = at + static_cast<size_t>(frame);
      return true;
    }
    default:
      return false;
  }
}

void frameSimple(const Spec& s, const uint8_t* data, size_t len, int32_t* table, size_t cap, size_t* pos, Group* g) {
  size_t at = 0;
  while (at < len) {
    size_t ps, pe, fe;
    if (!nextSimple(s, data, len, at, &ps, &pe, &fe, g)) break;
    if (*pos + 2 > cap) {
      g->status = kStopped;
      break;
    }
    table[(*pos)++] = static_cast<int32_t>(ps);
    table[(*pos)++] = static_cast<int32_t>(pe);
    g->count++;
    at = fe;
    g->consumed = at;
  }
}

}  // namespace codec
}  // namespace rl
