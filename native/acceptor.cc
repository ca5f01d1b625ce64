// The main thread's acceptor: listen sockets watched by uv_poll in the main libuv loop. Each
// readiness accepts until EAGAIN and hands the whole batch of fds to JS in one call; JS picks the
// reactors and publishes the fds into their inboxes.
#include <errno.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <uv.h>

#include <vector>

#include "addon.h"
#include "socket.h"

namespace rl {

namespace {

class Acceptor;

// Counts the handles still closing; the last one lets the thread's teardown go on.
struct CloseGroup {
  int handles;
  napi_async_cleanup_hook_handle hook;
};

struct Listener {
  uv_poll_t poll;
  uv_timer_t retry;  // after EMFILE/ENFILE: pause instead of spinning on a listener we cannot drain
  Acceptor* owner;  // null once closing
  CloseGroup* group;
  int fd;
  int32_t index;
  int pending;  // handles still to close
};

class Acceptor : public Napi::ObjectWrap<Acceptor> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Acceptor",
                       {InstanceMethod<&Acceptor::Listen>("listen"), InstanceMethod<&Acceptor::Resume>("resume"),
                        InstanceMethod<&Acceptor::Pause>("pause"), InstanceMethod<&Acceptor::Close>("close")});
  }

  // new Acceptor(out: Int32Array of (fd, listener, peer hash) triples,
  //              options: {hashPeers, ...socket options (see ReadSockOptions)}, onAccept(n))
  explicit Acceptor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Acceptor>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsTypedArray() || !info[1].IsObject() || !info[2].IsFunction()) {
      Napi::TypeError::New(env, "Acceptor(out, options, onAccept)").ThrowAsJavaScriptException();
      return;
    }
    auto out = info[0].As<Napi::Int32Array>();
    outRef_ = Napi::Persistent(out);
    out_ = out.Data();
    outPairs_ = out.ElementLength() / 3;
    Napi::Object o = info[1].As<Napi::Object>();
    ReadSockOptions(o, &sockOpts_);
    hashPeers_ = o.Get("hashPeers").ToBoolean();
    cb_ = Napi::Persistent(info[2].As<Napi::Function>());
    ctx_ = new Napi::AsyncContext(env, "ringloop:acceptor");
    napi_get_uv_event_loop(env, &uv_);
  }

  ~Acceptor() override { delete ctx_; }

 private:
  // listen(family 4|6|0, host, port, backlog, reusePort, index, reuseAddr) -> {fd, port}
  Napi::Value Listen(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) return ThrowErrno(env, EBADF, "listen on a closed acceptor");
    ListenSpec spec{info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::String>().Utf8Value(),
                    info[2].As<Napi::Number>().Int32Value(), info[3].As<Napi::Number>().Int32Value(),
                    info[4].ToBoolean(), info[6].IsUndefined() || info[6].ToBoolean()};
    int port = 0;
    int fd = sockListen(spec, &port);
    if (fd < 0) return ThrowErrno(env, -fd, "listen");
    auto* l = new Listener{};
    l->owner = this;
    l->fd = fd;
    l->index = info[5].As<Napi::Number>().Int32Value();
    uv_poll_init(uv_, &l->poll, fd);
    uv_timer_init(uv_, &l->retry);
    l->poll.data = l;
    l->retry.data = l;
    listeners_.push_back(l);
    if (listeners_.size() == 1) {
      napi_add_async_cleanup_hook(env, OnCleanup, this, &hook_);
      Ref();
    }
    Napi::Object r = Napi::Object::New(env);
    r.Set("fd", fd);
    r.Set("port", port);
    return r;
  }

  Napi::Value Resume(const Napi::CallbackInfo& info) {
    paused_ = false;
    for (Listener* l : listeners_) uv_poll_start(&l->poll, UV_READABLE, OnReadable);
    return info.Env().Undefined();
  }

  Napi::Value Pause(const Napi::CallbackInfo& info) {
    paused_ = true;
    for (Listener* l : listeners_) {
      uv_poll_stop(&l->poll);
      uv_timer_stop(&l->retry);
    }
    return info.Env().Undefined();
  }

  static void OnReadable(uv_poll_t* h, int status, int) {
    auto* l = static_cast<Listener*>(h->data);
    Acceptor* self = l->owner;
    if (!self || self->closed_ || status < 0) return;
    int n = sockAcceptBatch(l->fd, self->fds_, std::min<int>(kBatch, static_cast<int>(self->outPairs_)));
    if (n < 0) {
      if (n == -EMFILE || n == -ENFILE || n == -ENOBUFS || n == -ENOMEM) {
        uv_poll_stop(&l->poll);
        uv_timer_start(&l->retry, OnRetry, 100, 0);
      }
      return;
    }
    if (n == 0) return;
    for (int i = 0; i < n; i++) {
      sockConfigure(self->fds_[i], self->sockOpts_);
      self->out_[3 * i] = self->fds_[i];
      self->out_[3 * i + 1] = l->index;
      self->out_[3 * i + 2] = self->hashPeers_ ? PeerHash(self->fds_[i]) : 0;
    }
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    self->cb_.MakeCallback(self->Value(), {Napi::Number::New(env, n)}, *self->ctx_);
    if (env.IsExceptionPending()) {
      napi_value e;
      napi_get_and_clear_last_exception(env, &e);
      napi_fatal_exception(env, e);
    }
  }

  // FNV-1a of the peer's address without the port: one client host keeps to one reactor.
  static int32_t PeerHash(int fd) {
    sockaddr_storage ss{};
    socklen_t sl = sizeof ss;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &sl) < 0) return 0;
    const uint8_t* p = nullptr;
    size_t n = 0;
    if (ss.ss_family == AF_INET) {
      p = reinterpret_cast<const uint8_t*>(&reinterpret_cast<sockaddr_in*>(&ss)->sin_addr);
      n = 4;
    } else if (ss.ss_family == AF_INET6) {
      p = reinterpret_cast<const uint8_t*>(&reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr);
      n = 16;
    }
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return static_cast<int32_t>(h & 0x7fffffff);
  }

  static void OnRetry(uv_timer_t* t) {
    auto* l = static_cast<Listener*>(t->data);
    if (l->owner && !l->owner->closed_ && !l->owner->paused_) uv_poll_start(&l->poll, UV_READABLE, OnReadable);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Teardown(false);
    return info.Env().Undefined();
  }

  static void OnCleanup(napi_async_cleanup_hook_handle, void* arg) { static_cast<Acceptor*>(arg)->Teardown(true); }

  void Teardown(bool fromHook) {
    if (closed_) return;
    closed_ = true;
    if (listeners_.empty()) return;
    // The hook is removed by the last close callback, so thread teardown waits for them.
    auto* group = new CloseGroup{static_cast<int>(listeners_.size()) * 2, hook_};
    for (Listener* l : listeners_) {
      l->owner = nullptr;
      l->group = group;
      l->pending = 2;
      uv_poll_stop(&l->poll);
      uv_timer_stop(&l->retry);
      uv_close(reinterpret_cast<uv_handle_t*>(&l->poll), OnClosed);
      uv_close(reinterpret_cast<uv_handle_t*>(&l->retry), OnClosed);
    }
    listeners_.clear();
    if (!fromHook) Unref();
  }

  static void OnClosed(uv_handle_t* h) {
    auto* l = static_cast<Listener*>(h->data);
    CloseGroup* group = l->group;
    // libuv must be done with the fd before it is closed (it may be reused at once).
    if (h == reinterpret_cast<uv_handle_t*>(&l->poll)) sockClose(l->fd);
    if (--l->pending == 0) delete l;
    if (--group->handles == 0) {
      napi_remove_async_cleanup_hook(group->hook);
      delete group;
    }
  }

  static constexpr int kBatch = 256;
  uv_loop_t* uv_ = nullptr;
  std::vector<Listener*> listeners_;
  Napi::Reference<Napi::Int32Array> outRef_;
  int32_t* out_ = nullptr;
  size_t outPairs_ = 0;
  int fds_[kBatch];
  SockOptions sockOpts_;
  bool hashPeers_ = false;
  bool closed_ = false;
  bool paused_ = true;
  Napi::FunctionReference cb_;
  Napi::AsyncContext* ctx_ = nullptr;
  napi_async_cleanup_hook_handle hook_ = nullptr;
};

}  // namespace

Napi::Function InitAcceptor(Napi::Env env) { return Acceptor::Init(env); }

}  // namespace rl
