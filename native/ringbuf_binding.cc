// A RingBuffer exposed to JS so the tests drive the very code connections use.
#include "addon.h"
#include "ringbuf.h"

namespace rl {

namespace {

class TestRing : public Napi::ObjectWrap<TestRing> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "TestRing",
                       {InstanceMethod<&TestRing::Write>("write"), InstanceMethod<&TestRing::Read>("read"),
                        InstanceMethod<&TestRing::Pieces>("pieces"), InstanceMethod<&TestRing::Release>("release"),
                        InstanceAccessor<&TestRing::Size>("size"),
                        InstanceAccessor<&TestRing::Capacity>("capacity")});
  }
  explicit TestRing(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<TestRing>(info), ring_(static_cast<size_t>(info[0].As<Napi::Number>().DoubleValue())) {}

 private:
  Napi::Value Write(const Napi::CallbackInfo& info) {
    auto d = info[0].As<Napi::Uint8Array>();
    return Napi::Boolean::New(info.Env(), ring_.write(d.Data(), d.ByteLength()));
  }
  // read(n): copies out and discards up to n bytes.
  Napi::Value Read(const Napi::CallbackInfo& info) {
    size_t n = std::min(ring_.size(), static_cast<size_t>(info[0].As<Napi::Number>().DoubleValue()));
    auto all = Napi::Uint8Array::New(info.Env(), ring_.size());
    ring_.copyOut(all.Data());
    ring_.discard(n);
    return Napi::Uint8Array::New(info.Env(), n, all.ArrayBuffer(), 0);
  }
  Napi::Value Pieces(const Napi::CallbackInfo& info) {
    iovec v[2];
    return Napi::Number::New(info.Env(), ring_.peek(v));
  }
  Napi::Value Release(const Napi::CallbackInfo& info) {
    ring_.release();
    return info.Env().Undefined();
  }
  Napi::Value Size(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ring_.size()); }
  Napi::Value Capacity(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ring_.capacity()); }
  RingBuffer ring_;
};

}  // namespace

Napi::Function InitTestRing(Napi::Env env) { return TestRing::Init(env); }

}  // namespace rl
