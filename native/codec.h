// Frame codecs: the framers a listener may name (`codec` in serve options), run by the reactor
// between read (or TLS decryption) and the JS call, so a batch carries whole frames and, for
// http1 and resp, the offsets of their parts. Plain C++ over a byte range: no sockets, no N-API,
// so the same code serves the reactor and the fuzz entry point (codec_binding.cc).
//
// One delivery = one group in the shared frame table (Int32, offsets relative to the delivered
// window's first byte):
//   [len, count, consumed, status, detail] then `count` frame records:
//   line / delimiter / fixed / length-field: [payloadStart, payloadEnd]
//   resp:  [argc, start0, len0, start1, len1, ...]
//   http1: [end, method, flags, version, methodStart, methodEnd, targetStart, targetEnd,
//           pathStart, pathEnd, bodyStart, bodyLen, contentTypeIndex, nHeaders,
//           (nameStart, nameEnd, valueStart, valueEnd) x nHeaders]
// A frame starts where the previous one ended (the first at 0); `consumed` is where the last
// complete frame ended. Must match lib/reactor/frames.ts.
#pragma once
#include <cstddef>
#include <cstdint>

namespace rl {
namespace codec {

constexpr int kNone = 0;
constexpr int kLine = 1;
constexpr int kDelimiter = 2;
constexpr int kFixed = 3;
constexpr int kLengthField = 4;
constexpr int kHttp1 = 5;
constexpr int kResp = 6;

// Group status: what stands at `consumed`.
constexpr int kOk = 0;        // nothing, or an incomplete frame (detail: 1 head incomplete, 2 body awaited)
constexpr int kStopped = 1;   // the frame table is full: the rest is framed again next round
constexpr int kFallback = 2;  // a frame the codec leaves to the handler (chunked body, quoted inline command...)
constexpr int kError = 3;     // malformed or over a limit; detail = one of the kErr* (http1: the HTTP status)

// Error details (generic and resp); http1 reports the status it would answer (400, 413, 431, 505).
constexpr int kErrFrameTooLarge = 1;
constexpr int kErrProtocol = 2;
constexpr int kErrTooManyArgs = 3;

constexpr int kGroupInts = 5;
constexpr int kHttpFixedInts = 14;

// http1 flags
constexpr int kFlagKeepAlive = 1;

struct Spec {
  int type = kNone;
  // line / delimiter / length-field: the largest frame (payload and framing); a longer one is kError.
  uint32_t maxFrame = 64 * 1024;
  // delimiter: 1..16 bytes
  uint8_t delim[16] = {0};
  uint32_t delimLen = 0;
  // fixed
  uint32_t size = 0;
  // length-field (as Netty's LengthFieldBasedFrameDecoder / gnet v1's): the length is the value
  // of `fieldLength` bytes at `fieldOffset`; frame = fieldOffset + fieldLength + value +
  // adjustment bytes; the payload starts `strip` bytes into the frame.
  uint32_t fieldOffset = 0;
  uint32_t fieldLength = 4;
  int32_t adjustment = 0;
  uint32_t strip = 0;
  bool bigEndian = true;
  // resp
  uint32_t maxArgs = 1024 * 1024;
  uint32_t maxBulk = 32 * 1024 * 1024;
  // http1
  uint32_t maxHeaderBytes = 8 * 1024;
  uint32_t maxHeaders = 100;
  uint32_t maxBodyBytes = 1024 * 1024;
};

// Frames data[0, len) into table[0, cap): writes the group header and the records. Returns the
// ints written (>= kGroupInts), or 0 if even the header does not fit (cap < kGroupInts).
size_t frameAll(const Spec& s, const uint8_t* data, size_t len, int32_t* table, size_t cap);

// The per-codec framers: each frames from data[0] on, appending records at table + *pos (room
// up to cap), and fills count / consumed / status / detail.
struct Group {
  int32_t count = 0;
  size_t consumed = 0;
  int32_t status = kOk;
  int32_t detail = 0;
};
void frameSimple(const Spec& s, const uint8_t* data, size_t len, int32_t* table, size_t cap, size_t* pos, Group* g);
void frameResp(const Spec& s, const uint8_t* data, size_t len, int32_t* table, size_t cap, size_t* pos, Group* g);
void frameHttp1(const Spec& s, const uint8_t* data, size_t len, int32_t* table, size_t cap, size_t* pos, Group* g);

}  // namespace codec
}  // namespace rl
