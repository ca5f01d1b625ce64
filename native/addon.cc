// Module entry: one instance per thread that loads the addon (main, each reactor, pool workers).
// Everything per-thread hangs off that instance; C++ globals would be shared by all threads.
#include "addon.h"

#include <string.h>

#include "inbox.h"
#include "poller.h"
#include "reactor.h"
#include "ringbuf.h"
#include "socket.h"
#include "socket_dgram.h"
#include "wakeup.h"

namespace rl {

Napi::Value ThrowErrno(Napi::Env env, int err, const std::string& what) {
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, what));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

void ReadSockOptions(Napi::Object o, SockOptions* out) {
  auto num = [&](const char* k) { return o.Has(k) ? o.Get(k).ToNumber().Int32Value() : 0; };
  out->noDelay = o.Get("noDelay").ToBoolean();
  out->keepAliveIdleSec = num("keepAliveIdle");
  out->keepAliveIntervalSec = num("keepAliveInterval");
  out->keepAliveCount = num("keepAliveCount");
  out->recvBuf = num("recvBuf");
  out->sendBuf = num("sendBuf");
}

namespace {

Napi::Value CreateWakeFd(const Napi::CallbackInfo& info) {
  int fd = wakeupCreate();
  if (fd < 0) return ThrowErrno(info.Env(), -fd, "eventfd");
  return Napi::Number::New(info.Env(), fd);
}

// Thread-safe: any producer that found the consumer parked calls this once.
Napi::Value Wake(const Napi::CallbackInfo& info) {
  int r = wakeupSignal(info[0].As<Napi::Number>().Int32Value());
  return Napi::Number::New(info.Env(), r);
}

// listen(family, host, port, backlog, reusePort, reuseAddr, dgram, recvBuf, sendBuf) -> {fd, port}:
// a listen socket the caller hands to a reactor (reusePort mode), where the acceptor does not
// watch it, or a bound UDP socket (dgram), which a reactor always owns.
Napi::Value Listen(const Napi::CallbackInfo& info) {
  ListenSpec spec{info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::String>().Utf8Value(),
                  info[2].As<Napi::Number>().Int32Value(), info[3].As<Napi::Number>().Int32Value(),
                  info[4].ToBoolean(), info[5].IsUndefined() || info[5].ToBoolean(), info[6].ToBoolean()};
  int port = 0;
  int fd = sockListen(spec, &port);
  if (fd < 0) return ThrowErrno(info.Env(), -fd, "listen");
  if (spec.dgram) {
    SockOptions o;
    o.recvBuf = info[7].IsNumber() ? info[7].As<Napi::Number>().Int32Value() : 0;
    o.sendBuf = info[8].IsNumber() ? info[8].As<Napi::Number>().Int32Value() : 0;
    int r = sockConfigure(fd, o);
    if (r < 0) {
      sockClose(fd);
      return ThrowErrno(info.Env(), -r, "setsockopt");
    }
  }
  Napi::Object r = Napi::Object::New(info.Env());
  r.Set("fd", fd);
  r.Set("port", port);
  return r;
}

// peerFormat(u8, offset) -> "host:port" for the 32-byte peer record at that offset ("" if invalid).
Napi::Value PeerFormat(const Napi::CallbackInfo& info) {
  auto u8 = info[0].As<Napi::Uint8Array>();
  size_t off = info[1].As<Napi::Number>().Uint32Value();
  if (off > u8.ByteLength() || u8.ByteLength() - off < kPeerBytes) return Napi::String::New(info.Env(), "");
  return Napi::String::New(info.Env(), peerFormat(u8.Data() + off));
}

// peerParse(str, u8, offset) -> whether str was a numeric "host:port" / "[v6]:port"; writes the record.
Napi::Value PeerParse(const Napi::CallbackInfo& info) {
  auto u8 = info[1].As<Napi::Uint8Array>();
  size_t off = info[2].As<Napi::Number>().Uint32Value();
  if (!info[0].IsString() || off > u8.ByteLength() || u8.ByteLength() - off < kPeerBytes)
    return Napi::Boolean::New(info.Env(), false);
  return Napi::Boolean::New(info.Env(), peerParse(info[0].As<Napi::String>().Utf8Value(), u8.Data() + off));
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), sockClose(info[0].As<Napi::Number>().Int32Value()));
}

// Copies bytes into a malloc'd block for an inbox message too large to travel inline; the
// consumer frees it. Returns the address as a Number (user-space pointers fit in 53 bits).
Napi::Value Stage(const Napi::CallbackInfo& info) {
  auto data = info[0].As<Napi::Uint8Array>();
  size_t n = data.ByteLength();
  void* p = malloc(n ? n : 1);
  if (!p) return ThrowErrno(info.Env(), ENOMEM, "staging an inbox payload");
  memcpy(p, data.Data(), n);
  return Napi::Number::New(info.Env(), static_cast<double>(reinterpret_cast<uintptr_t>(p)));
}

Napi::Value Unstage(const Napi::CallbackInfo& info) {
  free(stagedPointer(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value()));
  return info.Env().Undefined();
}

// After a reactor is gone, whatever is left in its inbox is the engine's: close handed-over fds
// that were never adopted and free staged payloads. Returns how many messages were discarded.
Napi::Value InboxDiscard(const Napi::CallbackInfo& info) {
  auto arr = info[0].As<Napi::Int32Array>();
  Inbox inbox(arr.Data(), arr.ByteLength());
  if (!inbox.valid()) return Napi::Number::New(info.Env(), 0);
  int n = 0;
  InboxMsg m;
  while (inbox.peek(&m)) {
    if ((m.type == layout::kMsgAccept || m.type == layout::kMsgListen) && m.a >= 0) sockClose(m.a);
    free(m.staged);
    inbox.advance();
    n++;
  }
  return Napi::Number::New(info.Env(), n);
}

// The real consumer code path, driven from JS for the disruptor tests: copies up to
// out.length / 6 messages as (type, a, b, c, len, fnv1a(payload)) and consumes them.
Napi::Value InboxDrainForTest(const Napi::CallbackInfo& info) {
  auto arr = info[0].As<Napi::Int32Array>();
  auto out = info[1].As<Napi::Int32Array>();
  Inbox inbox(arr.Data(), arr.ByteLength());
  if (!inbox.valid()) return ThrowErrno(info.Env(), EINVAL, "inbox layout");
  size_t max = out.ElementLength() / 6, n = 0;
  InboxMsg m;
  while (n < max && inbox.peek(&m)) {
    uint32_t h = 2166136261u;
    for (int32_t i = 0; i < m.len; i++) h = (h ^ m.data[i]) * 16777619u;
    int32_t* o = out.Data() + n * 6;
    o[0] = m.type;
    o[1] = m.a;
    o[2] = m.b;
    o[3] = m.c;
    o[4] = m.len;
    o[5] = static_cast<int32_t>(h);
    free(m.staged);
    inbox.advance();
    n++;
  }
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

Napi::Object Constants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
  using namespace layout;
  const std::pair<const char*, int> all[] = {
      {"CLAIM", kClaim}, {"HEAD", kHead}, {"PARKED", kParked}, {"WAKE_FD", kWakeFd}, {"SLOTS", kSlots},
      {"SLOT_BYTES", kSlotBytes}, {"CONNS", kConns}, {"STATE", kState}, {"WAKERS", kWakers}, {"ACCEPTED", kAccepted}, {"HEADER_INTS", kHeaderInts},
      {"DGRAM_IN", kDgramIn}, {"DGRAM_OUT", kDgramOut}, {"DGRAM_DROPPED", kDgramDropped}, {"DGRAM_TRUNCATED", kDgramTruncated},
      {"DGRAM_MAX", kDgramMax}, {"MSG_SENDTO", kMsgSendTo}, {"PEER_BYTES", static_cast<int>(kPeerBytes)},
      {"EV_DGRAM_OPEN", ev::kDgramOpen}, {"EV_DATAGRAM", ev::kDatagram}, {"OUT_SENDTO", out::kSendTo}, {"OUT_SENDTO_READ", out::kSendToRead},
      {"SEQ", kSeq}, {"TYPE", kType}, {"A", kA}, {"B", kB}, {"C", kC}, {"LEN", kLen}, {"PTR_LO", kPtrLo},
      {"PTR_HI", kPtrHi}, {"TOKEN", kToken}, {"PAYLOAD_OFFSET", kPayloadOffset}, {"MSG_ACCEPT", kMsgAccept},
      {"MSG_WRITE", kMsgWrite}, {"MSG_WAKE", kMsgWake}, {"MSG_CLOSE", kMsgClose}, {"MSG_STOP", kMsgStop},
      {"MSG_TEST", kMsgTest}, {"MSG_LISTEN", kMsgListen}, {"STATE_RUNNING", kStateRunning}, {"STATE_STOPPING", kStateStopping},
      {"STATE_STOPPED", kStateStopped}, {"EV_RECORD_INTS", ev::kRecordInts}, {"EV_OPEN", ev::kOpen},
      {"EV_DATA", ev::kData}, {"EV_CLOSED", ev::kClosed}, {"EV_STOPPED", ev::kStopped}, {"EV_ACK", ev::kAck},
      {"OUT_RECORD_INTS", out::kRecordInts}, {"OUT_WRITE", out::kWrite}, {"OUT_KEEP", out::kKeep},
      {"OUT_CLOSE", out::kClose}, {"MSG_PUBLISH", kMsgPublish}, {"MSG_BROADCAST", kMsgBroadcast}, {"OUT_PUBLISH", out::kPublish}};
  for (const auto& [k, v] : all) c.Set(k, v);
  return c;
}

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports) {
    DefineAddon(exports, {InstanceValue("Loop", InitLoop(env)), InstanceValue("Acceptor", InitAcceptor(env)),
                          InstanceValue("TestRing", InitTestRing(env)),
                          InstanceValue("constants", Constants(env)),
                          InstanceValue("poller", Napi::String::New(env, pollerName())),
                          InstanceMethod<&Addon::Call<CreateWakeFd>>("createWakeFd"),
                          InstanceMethod<&Addon::Call<Wake>>("wake"),
                          InstanceMethod<&Addon::Call<CloseFd>>("closeFd"),
                          InstanceMethod<&Addon::Call<PeerFormat>>("peerFormat"),
                          InstanceMethod<&Addon::Call<PeerParse>>("peerParse"),
                          InstanceMethod<&Addon::Call<Listen>>("listen"),
                          InstanceMethod<&Addon::Call<Stage>>("stage"),
                          InstanceMethod<&Addon::Call<Unstage>>("unstage"),
                          InstanceMethod<&Addon::Call<InboxDiscard>>("inboxDiscard"),
                          InstanceMethod<&Addon::Call<InboxDrainForTest>>("inboxDrainForTest")});
    InitTls(env, exports);
    InitCodec(env, exports);
  }

 private:
  template <Napi::Value (*F)(const Napi::CallbackInfo&)>
  Napi::Value Call(const Napi::CallbackInfo& info) {
    return F(info);
  }
};

}  // namespace

}  // namespace rl

using RingloopAddon = rl::Addon;
NODE_API_ADDON(RingloopAddon)
