// Shared N-API glue: the error helper and the per-part initialisers addon.cc wires together.
#pragma once
#define NODE_ADDON_API_DISABLE_DEPRECATED
#include <napi.h>

#include <memory>

namespace rl {

// Throws an Error with `code` (e.g. "EADDRINUSE"), `errno` and a message naming what failed.
Napi::Value ThrowErrno(Napi::Env env, int err, const std::string& what);

// Reads {noDelay, keepAliveIdle, keepAliveInterval, keepAliveCount, recvBuf, sendBuf} (seconds, bytes).
struct SockOptions;
void ReadSockOptions(Napi::Object o, SockOptions* out);

Napi::Function InitLoop(Napi::Env env);
Napi::Function InitAcceptor(Napi::Env env);
Napi::Function InitTestRing(Napi::Env env);
void InitInboxTools(Napi::Env env, Napi::Object exports);
void InitTls(Napi::Env env, Napi::Object exports);
void InitCodec(Napi::Env env, Napi::Object exports);
namespace codec {
struct Spec;
}
// Reads a codec spec (lib/reactor/codec_spec.ts's NativeCodecSpec); false if malformed.
bool ReadCodecSpec(Napi::Value v, codec::Spec* s);

class TlsContext;
class TlsSession;
// The context tlsContext() registered as `id`, or null.
std::shared_ptr<TlsContext> TlsContextById(uint32_t id);
// What c.tls reports about a session (null if none).
Napi::Value TlsInfo(Napi::Env env, const TlsSession* s);

}  // namespace rl
