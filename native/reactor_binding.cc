// JS face of a Reactor: nests its poller fd in this thread's libuv loop with a uv_poll_t and
// carries each round's events to JS in one call (napi_make_callback, so microtasks run after it).
#include <time.h>
#include <uv.h>

#include "addon.h"
#include "reactor.h"
#include "socket.h"
#include "wakeup.h"

namespace rl {

namespace {

// Owns what must outlive the JS object until libuv has closed the poll handle.
// The handshake timer closes with the poll handle; the box goes once both are closed.
struct PollBox {
  uv_poll_t poll;
  uv_timer_t timer;
  Reactor* reactor;
  napi_async_cleanup_hook_handle hook;
  int open = 0;  // handles not yet closed
  uint64_t timerAt = 0;  // the deadline (ms, monotonic) the timer is started for; 0 = stopped
};

class Loop : public Napi::ObjectWrap<Loop>, public ArenaHost {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Loop",
                       {InstanceMethod<&Loop::Start>("start"), InstanceMethod<&Loop::Commit>("commit"),
                        InstanceMethod<&Loop::WriteNow>("writeNow"), InstanceMethod<&Loop::Address>("address"),
                        InstanceMethod<&Loop::OutboundBuffered>("outboundBuffered"),
                        InstanceMethod<&Loop::CloseAll>("closeAll"), InstanceMethod<&Loop::Destroy>("destroy"),
                        InstanceMethod<&Loop::SetOutArena>("setOutArena"),
                        InstanceMethod<&Loop::SocketOptions>("socketOptions"),
                        InstanceMethod<&Loop::SetListenerTls>("setListenerTls"),
                        InstanceMethod<&Loop::TlsInfoOf>("tlsInfo"),
                        InstanceMethod<&Loop::TakeReason>("takeReason"),
                        InstanceMethod<&Loop::SetTopicDirectory>("setTopicDirectory"),
                        InstanceMethod<&Loop::Subscribe>("subscribe"),
                        InstanceMethod<&Loop::Unsubscribe>("unsubscribe"),
                        InstanceMethod<&Loop::TopicsOf>("topics"),
                        // Outbound connections, half-close, forwarding, PROXY (loop_dial.h).
                        InstanceMethod<&Loop::Dial>("dial"), InstanceMethod<&Loop::SetPaused>("setPaused"),
                        InstanceMethod<&Loop::SetPipe>("setPipe"),
                        InstanceMethod<&Loop::SetListenerProxy>("setListenerProxy"),
                        InstanceMethod<&Loop::SetHalfClose>("setHalfClose"),
                        InstanceMethod<&Loop::ProxyInfo>("proxyInfo"),
                        InstanceMethod<&Loop::TakeDialRequest>("takeDialRequest"),
                        InstanceMethod<&Loop::SetListenerCodec>("setListenerCodec")});
  }

  // new Loop(inbox: Int32Array, events: Int32Array, outRecs: Int32Array, outArena: Uint8Array,
  //          options: {readBufferCap, writeBufferCap, arenaBytes}, onBatch(n, arena) => outCount)
  explicit Loop(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Loop>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 6 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsTypedArray() ||
        !info[3].IsTypedArray() || !info[4].IsObject() || !info[5].IsFunction()) {
      Napi::TypeError::New(env, "Loop(inbox, events, outRecs, outArena, options, onBatch)").ThrowAsJavaScriptException();
      return;
    }
    auto inbox = info[0].As<Napi::Int32Array>();
    auto events = info[1].As<Napi::Int32Array>();
    auto outRecs = info[2].As<Napi::Int32Array>();
    inboxRef_ = Napi::Persistent(inbox);
    eventsRef_ = Napi::Persistent(events);
    outRecsRef_ = Napi::Persistent(outRecs);
    evData_ = events.Data();
    evCap_ = events.ElementLength() / ev::kRecordInts;
    outData_ = outRecs.Data();
    outCap_ = outRecs.ElementLength() / out::kRecordInts;
    SetOutArenaValue(info[3].As<Napi::Uint8Array>());
    cb_ = Napi::Persistent(info[5].As<Napi::Function>());
    Napi::Object o = info[4].As<Napi::Object>();
    Reactor::Options opts{static_cast<size_t>(o.Get("readBufferCap").As<Napi::Number>().DoubleValue()),
                          static_cast<size_t>(o.Get("writeBufferCap").As<Napi::Number>().DoubleValue()),
                          static_cast<size_t>(o.Get("writeHighWater").As<Napi::Number>().DoubleValue()),
                          SockOptions{},
                          static_cast<size_t>(o.Get("maxDatagramSize").As<Napi::Number>().DoubleValue()),
                          o.Get("generationBase").As<Napi::Number>().Uint32Value()};
    ReadSockOptions(o.Get("socket").As<Napi::Object>(), &opts.sock);
    size_t arenaBytes = static_cast<size_t>(o.Get("arenaBytes").As<Napi::Number>().DoubleValue());
    inbox_ = Inbox(inbox.Data(), inbox.ByteLength());
    if (!inbox_.valid() || evCap_ < 64 || outCap_ < 1) {
      Napi::RangeError::New(env, "ringloop: malformed inbox or batch buffers").ThrowAsJavaScriptException();
      return;
    }
    reactor_ = new Reactor(inbox_, inbox_.load(layout::kWakeFd), opts, this);
    if (o.Get("frames").IsTypedArray()) {  // the frame table codecs write into (reactor_codec.cc)
      auto frames = o.Get("frames").As<Napi::Int32Array>();
      framesRef_ = Napi::Persistent(frames);
      reactor_->setFrameTable(frames.Data(), frames.ElementLength());
    }
    int err = reactor_->init();
    if (err < 0) {
      ThrowErrno(env, -err, "creating the reactor's poller");
      return;
    }
    size_t size = 0;
    uint8_t* a = growArena(arenaBytes, &size);
    reactor_->setArena(a, size);
    ctx_ = new Napi::AsyncContext(env, "ringloop:reactor");
  }

  ~Loop() override {
    if (!started_) delete reactor_;
    delete ctx_;
  }

  uint8_t* growArena(size_t bytes, size_t* size) override {
    size_t n = 1 << 16;
    while (n < bytes) n <<= 1;
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(Env(), n);
    if (Env().IsExceptionPending()) return nullptr;
    arenaRef_ = Napi::Persistent(ab);
    *size = n;
    return static_cast<uint8_t*>(ab.Data());
  }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (started_ || destroyed_) return env.Undefined();
    uv_loop_t* uvLoop = nullptr;
    if (napi_get_uv_event_loop(env, &uvLoop) != napi_ok) return ThrowErrno(env, EINVAL, "getting the uv loop");
    box_ = new PollBox{};
    box_->reactor = reactor_;
    int r = uv_poll_init(uvLoop, &box_->poll, reactor_->pollFd());
    if (r == 0) r = uv_poll_start(&box_->poll, UV_READABLE, OnPoll);
    if (r != 0) {
      delete box_;
      box_ = nullptr;
      return ThrowErrno(env, -r, "watching the reactor's poller");
    }
    box_->poll.data = this;
    box_->open = 1;
    if (uv_timer_init(uvLoop, &box_->timer) == 0) {
      box_->timer.data = this;
      box_->open = 2;
      uv_unref(reinterpret_cast<uv_handle_t*>(&box_->timer));  // never keeps the thread alive
    }
    napi_add_async_cleanup_hook(env, OnCleanup, this, &box_->hook);
    started_ = true;
    Ref();  // alive while libuv may call us
    // Producers only signal a parked consumer: start parked, unless work is already waiting.
    if (!inbox_.park()) wakeupSignal(inbox_.load(layout::kWakeFd));
    return env.Undefined();
  }

  static void OnPoll(uv_poll_t* h, int, int) {
    auto* self = static_cast<Loop*>(h->data);
    if (!self || self->destroyed_) return;
    Napi::HandleScope scope(self->Env());
    self->inbox_.unpark();
    // While rounds find work, poll again at once: under load the answer to what we just wrote is
    // often already back, and this saves libuv's own epoll_wait per round. Bounded so the
    // thread's other work (timers, messages) keeps its turn.
    for (int round = 0;; round++) {
      self->reactor_->gather();
      bool busy = !self->reactor_->events().empty() || self->reactor_->takeForwarded() || self->reactor_->hasReframes();
      self->Dispatch();
      if (self->destroyed_) return;
      if (busy && round < kMaxRounds) continue;
      self->ArmHandshakes();
      if (self->destroyed_) return;
      if (!self->reactor_->hasReframes() && self->inbox_.park()) return;
      if (round >= kMaxRounds) {
        // Work is waiting in the inbox but our turn is over: make libuv call us again.
        self->inbox_.unpark();
        wakeupSignal(self->inbox_.load(layout::kWakeFd));
        return;
      }
    }
  }

  static constexpr int kMaxRounds = 16;

  // TLS handshakes have deadlines: expire the ones past theirs and sleep until the next one.
  // From inside a JS call (dispatch false) the events wait for the wake-up WakeForEvents sends.
  void ArmHandshakes(bool dispatch = true) {
    if (!box_ || box_->open < 2) return;
    uint64_t next = reactor_->expireHandshakes(0);
    uint64_t waits = reactor_->expireWaits(0);  // connects and PROXY headers (reactor_dial.cc)
    if (waits != 0 && (next == 0 || waits < next)) next = waits;
    uint64_t sweep = reactor_->sweepTlsBuffers(0);
    if (sweep != 0 && (next == 0 || sweep < next)) next = sweep;
    if (dispatch && !reactor_->events().empty()) Dispatch();
    if (destroyed_ || !box_) return;
    if (next == 0) {
      if (box_->timerAt != 0) uv_timer_stop(&box_->timer);
      box_->timerAt = 0;
      return;
    }
    // Already started for this deadline (the TLS buffer sweep's stays the same for a second of
    // wake-ups): no clock read, no timer restart per wake-up.
    if (next == box_->timerAt) return;
    box_->timerAt = next;
    // Deadlines are CLOCK_MONOTONIC ms (reactor_tls.cc); libuv's clock has another origin, so
    // only the distance is handed to the timer.
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t mono = static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
    uint64_t wait = next > mono ? next - mono : 0;
    uv_timer_start(&box_->timer, OnHandshakeTimer, wait + 1, 0);
  }

  static void OnHandshakeTimer(uv_timer_t* t) {
    auto* self = static_cast<Loop*>(t->data);
    if (!self || self->destroyed_) return;
    self->box_->timerAt = 0;  // fired: a deadline equal to the last one must start it again
    Napi::HandleScope scope(self->Env());
    self->ArmHandshakes();
  }

  // setListenerTls(listener, contextId, handshakeTimeoutMs, maxHandshakeBytes)
  Napi::Value SetListenerTls(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<TlsContext> ctx = TlsContextById(info[1].As<Napi::Number>().Uint32Value());
    if (!ctx) {
      Napi::Error::New(env, "ringloop: unknown TLS context").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    TlsListener l;
    l.ctx = std::move(ctx);
    l.handshakeTimeoutMs = info[2].As<Napi::Number>().Uint32Value();
    l.maxHandshakeBytes = static_cast<size_t>(info[3].As<Napi::Number>().DoubleValue());
    reactor_->setListenerTls(info[0].As<Napi::Number>().Int32Value(), l);
    return env.Undefined();
  }

  Napi::Value TlsInfoOf(const Napi::CallbackInfo& info) {
    if (destroyed_) return info.Env().Null();
    return TlsInfo(info.Env(), reactor_->tlsSession(info[0].As<Napi::Number>().Int32Value()));
  }

  // setListenerCodec(listener, spec): connections accepted for `listener` from now on are framed.
  Napi::Value SetListenerCodec(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    codec::Spec spec;
    if (destroyed_ || !ReadCodecSpec(info[1], &spec)) {
      Napi::TypeError::New(env, "ringloop: malformed codec spec").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    reactor_->setListenerCodec(info[0].As<Napi::Number>().Int32Value(), spec);
    return env.Undefined();
  }

  Napi::Value TakeReason(const Napi::CallbackInfo& info) {
    if (destroyed_) return Napi::String::New(info.Env(), "");
    return Napi::String::New(info.Env(), reactor_->takeReason(info[0].As<Napi::Number>().Int32Value()));
  }

  // setTopicDirectory(dir: Int32Array (buckets x loops), buckets, loops, index)
  Napi::Value SetTopicDirectory(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsTypedArray()) return env.Undefined();
    auto dir = info[0].As<Napi::Int32Array>();
    uint32_t buckets = info[1].As<Napi::Number>().Uint32Value();
    int32_t loops = info[2].As<Napi::Number>().Int32Value();
    int32_t index = info[3].As<Napi::Number>().Int32Value();
    if (buckets == 0 || (buckets & (buckets - 1)) != 0 || loops <= 0 || index < 0 || index >= loops ||
        dir.ElementLength() < static_cast<size_t>(buckets) * loops) {
      Napi::RangeError::New(env, "ringloop: malformed topic directory").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    topicDirRef_ = Napi::Persistent(dir);
    reactor_->setTopicDirectory(dir.Data(), buckets, loops, index);
    return env.Undefined();
  }

  // subscribe(slot, gen, topic: Uint8Array) -> 1 subscribed now, 0 already, -1 no such connection
  Napi::Value Subscribe(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (destroyed_ || !info[2].IsTypedArray()) return Napi::Number::New(env, -1);
    auto t = info[2].As<Napi::Uint8Array>();
    return Napi::Number::New(env, reactor_->subscribe(info[0].As<Napi::Number>().Int32Value(),
                                                      info[1].As<Napi::Number>().Uint32Value(), t.Data(),
                                                      t.ByteLength()));
  }

  Napi::Value Unsubscribe(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (destroyed_ || !info[2].IsTypedArray()) return Napi::Number::New(env, -1);
    auto t = info[2].As<Napi::Uint8Array>();
    return Napi::Number::New(env, reactor_->unsubscribe(info[0].As<Napi::Number>().Int32Value(),
                                                        info[1].As<Napi::Number>().Uint32Value(), t.Data(),
                                                        t.ByteLength()));
  }

  // topics(slot, gen) -> the connection's topics (UTF-8 decoded), [] if none or not open
  Napi::Value TopicsOf(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const std::vector<std::string>* v =
        destroyed_ ? nullptr
                   : reactor_->topicsOf(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Uint32Value());
    size_t n = v ? v->size() : 0;
    Napi::Array a = Napi::Array::New(env, n);
    for (size_t i = 0; i < n; i++) a.Set(static_cast<uint32_t>(i), Napi::String::New(env, (*v)[i]));
    return a;
  }
#include "loop_dial.h"

  void Dispatch() {
    Napi::Env env = Env();
    auto& evs = reactor_->events();
    while (!evs.empty() && !destroyed_) {
      batch_.swap(evs);
      size_t recs = batch_.size() / ev::kRecordInts;
      for (size_t done = 0; done < recs && !destroyed_;) {
        size_t n = std::min(recs - done, evCap_);
        memcpy(evData_, batch_.data() + done * ev::kRecordInts, n * ev::kRecordInts * sizeof(int32_t));
        done += n;
        napi_value ret = cb_.MakeCallback(Value(), {Napi::Number::New(env, static_cast<double>(n)), arenaRef_.Value()},
                                          *ctx_);
        if (env.IsExceptionPending()) {
          // The dispatcher catches handler errors itself; reaching here is a bug: report it as
          // the thread's uncaught exception rather than swallowing it.
          napi_value e;
          napi_get_and_clear_last_exception(env, &e);
          napi_fatal_exception(env, e);
          continue;
        }
        if (destroyed_) break;
        int32_t nout = 0;
        if (ret) napi_get_value_int32(env, ret, &nout);
        CommitN(nout);
      }
      batch_.clear();
    }
  }

  void CommitN(int32_t n) {
    if (n <= 0 || destroyed_) return;
    if (static_cast<size_t>(n) > outCap_) n = static_cast<int32_t>(outCap_);
    reactor_->commit(outData_, n, outArena_, outArenaSize_);
  }

  Napi::Value Commit(const Napi::CallbackInfo& info) {
    CommitN(info[0].As<Napi::Number>().Int32Value());
    WakeForEvents();
    return info.Env().Undefined();
  }

  // A commit or write made outside a round (timer, message, job error) can close connections:
  // their events must reach JS without waiting for unrelated traffic, and never re-enter the
  // batch callback from inside a JS call. Wake our own loop instead.
  void WakeForEvents() {
    if (!destroyed_ && !reactor_->events().empty()) wakeupSignal(inbox_.load(layout::kWakeFd));
  }

  Napi::Value WriteNow(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (destroyed_ || !info[2].IsTypedArray()) return Napi::Number::New(env, -EPIPE);
    auto data = info[2].As<Napi::Uint8Array>();
    int r = reactor_->writeNow(info[0].As<Napi::Number>().Int32Value(),
                               info[1].As<Napi::Number>().Uint32Value(), data.Data(), data.ByteLength());
    WakeForEvents();
    return Napi::Number::New(env, r);
  }

  Napi::Value Address(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (destroyed_) return Napi::String::New(env, "");
    int fd = reactor_->connFd(info[0].As<Napi::Number>().Int32Value());
    return Napi::String::New(env, fd < 0 ? "" : sockAddress(fd, info[1].ToBoolean()));
  }

  // socketOptions(slot) -> what the kernel reports for that connection's socket, or null.
  Napi::Value SocketOptions(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int fd = destroyed_ ? -1 : reactor_->connFd(info[0].As<Napi::Number>().Int32Value());
    SockOptions o;
    if (fd < 0 || sockInspect(fd, &o) < 0) return env.Null();
    Napi::Object r = Napi::Object::New(env);
    r.Set("noDelay", o.noDelay);
    r.Set("keepAliveIdle", o.keepAliveIdleSec);
    r.Set("keepAliveInterval", o.keepAliveIntervalSec);
    r.Set("keepAliveCount", o.keepAliveCount);
    r.Set("recvBuf", o.recvBuf);
    r.Set("sendBuf", o.sendBuf);
    return r;
  }

  Napi::Value OutboundBuffered(const Napi::CallbackInfo& info) {
    if (destroyed_) return Napi::Number::New(info.Env(), 0);
    return Napi::Number::New(info.Env(),
                             static_cast<double>(reactor_->outboundBuffered(info[0].As<Napi::Number>().Int32Value())));
  }

  // Used by the stop timeout: closes what is left, reporting the errno given.
  Napi::Value CloseAll(const Napi::CallbackInfo& info) {
    if (destroyed_) return info.Env().Undefined();
    reactor_->closeAll(info[0].As<Napi::Number>().Int32Value());
    Napi::HandleScope scope(Env());
    Dispatch();
    return info.Env().Undefined();
  }

  Napi::Value SetOutArena(const Napi::CallbackInfo& info) {
    if (info[0].IsTypedArray()) SetOutArenaValue(info[0].As<Napi::Uint8Array>());
    return info.Env().Undefined();
  }

  void SetOutArenaValue(Napi::Uint8Array a) {
    outArenaRef_ = Napi::Persistent(a);
    outArena_ = a.Data();
    outArenaSize_ = a.ByteLength();
  }

  Napi::Value Destroy(const Napi::CallbackInfo& info) {
    Teardown(false);
    return info.Env().Undefined();
  }

  static void OnCleanup(napi_async_cleanup_hook_handle, void* arg) { static_cast<Loop*>(arg)->Teardown(true); }

  // Closes every descriptor this loop owns. From the cleanup hook (worker.terminate, process
  // exit) the environment is going away: only native work is done then.
  void Teardown(bool fromHook) {
    if (destroyed_) return;
    destroyed_ = true;
    if (!started_) return;
    reactor_->closeSilently();
    box_->poll.data = box_;
    uv_poll_stop(&box_->poll);
    uv_close(reinterpret_cast<uv_handle_t*>(&box_->poll), OnClosed);
    if (box_->open == 2) {
      box_->timer.data = box_;
      uv_timer_stop(&box_->timer);
      uv_close(reinterpret_cast<uv_handle_t*>(&box_->timer), OnClosed);
    }
    box_ = nullptr;
    if (!fromHook) Unref();
  }

  static void OnClosed(uv_handle_t* h) {
    auto* box = static_cast<PollBox*>(h->data);
    if (--box->open > 0) return;
    delete box->reactor;
    napi_remove_async_cleanup_hook(box->hook);
    delete box;
  }

  Inbox inbox_;
  Reactor* reactor_ = nullptr;
  PollBox* box_ = nullptr;
  bool started_ = false;
  bool destroyed_ = false;
  Napi::Reference<Napi::Int32Array> inboxRef_, eventsRef_, outRecsRef_, topicDirRef_;
  Napi::Reference<Napi::Int32Array> framesRef_;
  Napi::Reference<Napi::Uint8Array> outArenaRef_;
  Napi::Reference<Napi::ArrayBuffer> arenaRef_;
  Napi::FunctionReference cb_;
  Napi::AsyncContext* ctx_ = nullptr;
  int32_t* evData_ = nullptr;
  size_t evCap_ = 0;
  int32_t* outData_ = nullptr;
  size_t outCap_ = 0;
  uint8_t* outArena_ = nullptr;
  size_t outArenaSize_ = 0;
  std::vector<int32_t> batch_;
};

}  // namespace

Napi::Function InitLoop(Napi::Env env) { return Loop::Init(env); }

}  // namespace rl
