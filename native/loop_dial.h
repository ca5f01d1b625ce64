// Included inside the Loop class of reactor_binding.cc: the JS methods for outbound connections,
// pauseRead/resumeRead, forward mode and PROXY listeners (the logic is in reactor_dial.cc). Each
// call that can close a connection outside a round wakes the loop so the events reach JS.

  // dial(family 4|6|0, host, port, timeoutMs, first?: Uint8Array, tls?) -> slot * 2^32 + generation, or -errno
  Napi::Value Dial(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (destroyed_) return Napi::Number::New(env, -ECANCELED);
    std::string first;
    if (info.Length() > 4 && info[4].IsTypedArray()) {
      auto b = info[4].As<Napi::Uint8Array>();
      first.assign(reinterpret_cast<const char*>(b.Data()), b.ByteLength());
    }
    // tls?: { servername, ca?: Uint8Array, verify }
    TlsDial tls;
    bool withTls = info.Length() > 5 && info[5].IsObject();
    if (withTls) {
      Napi::Object t = info[5].As<Napi::Object>();
      tls.servername = t.Get("servername").IsString() ? t.Get("servername").As<Napi::String>().Utf8Value() : "";
      if (t.Get("ca").IsTypedArray()) {
        auto b = t.Get("ca").As<Napi::Uint8Array>();
        tls.ca.assign(reinterpret_cast<const char*>(b.Data()), b.ByteLength());
      }
      tls.verify = t.Get("verify").ToBoolean();
    }
    uint32_t gen = 0;
    int32_t slot = reactor_->dial(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::String>().Utf8Value(),
                                  info[2].As<Napi::Number>().Int32Value(), info[3].As<Napi::Number>().Uint32Value(),
                                  first, &gen, withTls ? &tls : nullptr);
    if (slot >= 0) ArmHandshakes(false);  // the connect deadline
    WakeForEvents();
    if (slot < 0) return Napi::Number::New(env, slot);
    return Napi::Number::New(env, static_cast<double>(slot) * 4294967296.0 + static_cast<double>(gen));
  }

  // setPaused(slot, gen, paused) -> false if the ref is stale
  Napi::Value SetPaused(const Napi::CallbackInfo& info) {
    if (destroyed_) return Napi::Boolean::New(info.Env(), false);
    bool ok = reactor_->setPaused(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Uint32Value(),
                                  info[2].ToBoolean());
    WakeForEvents();
    return Napi::Boolean::New(info.Env(), ok);
  }

  // setPipe(slot, gen, toSlot, toGen) -> 0 or -errno; toSlot -1 ends forwarding
  Napi::Value SetPipe(const Napi::CallbackInfo& info) {
    if (destroyed_) return Napi::Number::New(info.Env(), -ECANCELED);
    int r = reactor_->setPipe(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Uint32Value(),
                              info[2].As<Napi::Number>().Int32Value(), info[3].As<Napi::Number>().Uint32Value());
    WakeForEvents();
    return Napi::Number::New(info.Env(), r);
  }

  // setListenerProxy(listener, mode 1 required | 2 optional, headerTimeoutMs)
  Napi::Value SetListenerProxy(const Napi::CallbackInfo& info) {
    reactor_->setListenerProxy(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value(),
                               info[2].As<Napi::Number>().Uint32Value());
    return info.Env().Undefined();
  }

  Napi::Value SetHalfClose(const Napi::CallbackInfo& info) {
    reactor_->setHalfClose(info[0].ToBoolean());
    return info.Env().Undefined();
  }

  // proxyInfo(slot) -> { version, source, dest, tlvs } from the connection's PROXY header, or null
  Napi::Value ProxyInfo(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const DialState* d = destroyed_ ? nullptr : reactor_->proxyInfo(info[0].As<Napi::Number>().Int32Value());
    if (!d) return env.Null();
    Napi::Object o = Napi::Object::New(env);
    o.Set("version", d->version);
    o.Set("source", d->source);
    o.Set("dest", d->dest);
    o.Set("tlvs", Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(d->tlvs.data()), d->tlvs.size()));
    return o;
  }

  // takeDialRequest() -> the oldest request's bytes (a copy), or null
  Napi::Value TakeDialRequest(const Napi::CallbackInfo& info) {
    std::string r;
    if (destroyed_ || !reactor_->takeDialRequest(&r)) return info.Env().Null();
    return Napi::Buffer<uint8_t>::Copy(info.Env(), reinterpret_cast<const uint8_t*>(r.data()), r.size());
  }
