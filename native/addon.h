// Shared N-API glue: the error helper and the per-part initialisers addon.cc wires together.
#pragma once
#define NODE_ADDON_API_DISABLE_DEPRECATED
#include <napi.h>

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

}  // namespace rl
