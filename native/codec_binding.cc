// JS face of the codecs: reading a codec spec from the object lib/reactor/codec_spec.ts builds,
// and `codecFrame(spec, bytes, table)`, which frames bytes outside any reactor (the fuzz test
// compares it with the JS parsers; it is the very code the reactor runs).
#include "addon.h"
#include "codec.h"
#include "reactor.h"

namespace rl {

namespace {

uint32_t U32(Napi::Object o, const char* k, uint32_t dflt) {
  Napi::Value v = o.Get(k);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : dflt;
}

Napi::Value CodecFrame(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  codec::Spec s;
  if (info.Length() < 3 || !info[1].IsTypedArray() || !info[2].IsTypedArray() || !ReadCodecSpec(info[0], &s)) {
    Napi::TypeError::New(env, "codecFrame(spec, bytes: Uint8Array, table: Int32Array)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto bytes = info[1].As<Napi::Uint8Array>();
  auto table = info[2].As<Napi::Int32Array>();
  size_t n = codec::frameAll(s, bytes.Data(), bytes.ByteLength(), table.Data(), table.ElementLength());
  return Napi::Number::New(env, static_cast<double>(n));
}

}  // namespace

bool ReadCodecSpec(Napi::Value v, codec::Spec* s) {
  if (!v.IsObject()) return false;
  Napi::Object o = v.As<Napi::Object>();
  s->type = static_cast<int>(U32(o, "type", codec::kNone));
  if (s->type < codec::kNone || s->type > codec::kResp) return false;
  s->maxFrame = U32(o, "maxFrame", s->maxFrame);
  s->size = U32(o, "size", s->size);
  s->fieldOffset = U32(o, "fieldOffset", s->fieldOffset);
  s->fieldLength = U32(o, "fieldLength", s->fieldLength);
  s->adjustment = o.Get("adjustment").IsNumber() ? o.Get("adjustment").As<Napi::Number>().Int32Value() : 0;
  s->strip = U32(o, "strip", s->strip);
  s->bigEndian = !o.Get("littleEndian").ToBoolean();
  s->maxArgs = U32(o, "maxArgs", s->maxArgs);
  s->maxBulk = U32(o, "maxBulk", s->maxBulk);
  s->maxHeaderBytes = U32(o, "maxHeaderBytes", s->maxHeaderBytes);
  s->maxHeaders = U32(o, "maxHeaders", s->maxHeaders);
  s->maxBodyBytes = U32(o, "maxBodyBytes", s->maxBodyBytes);
  Napi::Value d = o.Get("delimiter");
  if (d.IsTypedArray()) {
    auto a = d.As<Napi::Uint8Array>();
    if (a.ByteLength() > sizeof(s->delim)) return false;
    s->delimLen = static_cast<uint32_t>(a.ByteLength());
    for (size_t i = 0; i < a.ByteLength(); i++) s->delim[i] = a.Data()[i];
  }
  // The shapes the framers rely on (codec_spec.ts reports these to users first).
  if (s->type == codec::kDelimiter && s->delimLen == 0) return false;
  if (s->type == codec::kFixed && s->size == 0) return false;
  if (s->type == codec::kLengthField &&
      !(s->fieldLength == 1 || s->fieldLength == 2 || s->fieldLength == 3 || s->fieldLength == 4 || s->fieldLength == 8))
    return false;
  if (s->maxFrame == 0 || s->maxHeaders == 0 || s->maxHeaders > 4096) return false;
  return true;
}

void InitCodec(Napi::Env env, Napi::Object exports) {
  exports.Set("codecFrame", Napi::Function::New(env, CodecFrame, "codecFrame"));
  Napi::Object k = Napi::Object::New(env);
  k.Set("EV_FRAMES", ev::kFrames);  // from reactor.h: one numbering for every part's codes
  k.Set("ERR_FRAME_TOO_LARGE", ev::kErrFrameTooLarge);
  k.Set("ERR_FRAME_PROTOCOL", ev::kErrFrameProtocol);
  exports.Set("codecConstants", k);
}

}  // namespace rl
