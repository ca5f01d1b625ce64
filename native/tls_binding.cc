// JS face of TLS: contexts built from the engine's `tls` option (kept in a process-wide registry,
// since every reactor thread uses the same SSL_CTX), and what `c.tls` reports about a session.
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <mutex>
#include <unordered_map>

#include "addon.h"
#include "reactor.h"
#include "tls.h"

namespace rl {

namespace {

std::mutex registryMutex;
std::unordered_map<uint32_t, std::shared_ptr<TlsContext>> registry;
uint32_t nextId = 1;

std::string bytesOf(Napi::Value v) {
  if (v.IsString()) return v.As<Napi::String>().Utf8Value();
  if (v.IsTypedArray()) {
    auto a = v.As<Napi::Uint8Array>();
    return std::string(reinterpret_cast<const char*>(a.Data()), a.ByteLength());
  }
  return std::string();
}

int versionOf(Napi::Value v, int fallback, bool* ok) {
  if (!v.IsString()) return fallback;
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s == "TLSv1.2") return TLS1_2_VERSION;
  if (s == "TLSv1.3") return TLS1_3_VERSION;
  *ok = false;
  return fallback;
}

TlsConfig::Identity identityOf(Napi::Object o) {
  return TlsConfig::Identity{bytesOf(o.Get("cert")), bytesOf(o.Get("key")), bytesOf(o.Get("passphrase"))};
}

// tlsContext({cert, key, passphrase?, ca?, alpn?: Uint8Array (wire format), ciphers?, minVersion?,
// maxVersion?, requestCert?, rejectUnauthorized?, sni?: [{name, cert, key, passphrase?}]}) -> id
Napi::Value TlsContextCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) {
    Napi::TypeError::New(env, "tlsContext(options)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object o = info[0].As<Napi::Object>();
  TlsConfig cfg;
  cfg.id = identityOf(o);
  cfg.ca = bytesOf(o.Get("ca"));
  cfg.alpn = bytesOf(o.Get("alpn"));
  cfg.ciphers = bytesOf(o.Get("ciphers"));
  bool ok = true;
  cfg.minVersion = versionOf(o.Get("minVersion"), TLS1_2_VERSION, &ok);
  cfg.maxVersion = versionOf(o.Get("maxVersion"), 0, &ok);
  if (!ok) {
    Napi::RangeError::New(env, "tls.minVersion / maxVersion must be 'TLSv1.2' or 'TLSv1.3'").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  cfg.requestCert = o.Get("requestCert").ToBoolean();
  cfg.rejectUnauthorized = !o.Has("rejectUnauthorized") || o.Get("rejectUnauthorized").ToBoolean();
  if (o.Get("sni").IsArray()) {
    Napi::Array a = o.Get("sni").As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Object e = a.Get(i).As<Napi::Object>();
      cfg.sni.emplace_back(e.Get("name").ToString().Utf8Value(), identityOf(e));
    }
  }
  std::string err;
  std::shared_ptr<TlsContext> ctx = TlsContext::create(cfg, &err);
  if (!ctx) {
    Napi::Error e = Napi::Error::New(env, err);
    e.Set("code", Napi::String::New(env, "ERR_TLS_CONFIG"));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::lock_guard<std::mutex> g(registryMutex);
  uint32_t id = nextId++;
  registry.emplace(id, std::move(ctx));
  return Napi::Number::New(env, id);
}

// tlsContextFree(id): reactors that still serve the listener keep their own reference.
Napi::Value TlsContextFree(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> g(registryMutex);
  registry.erase(info[0].As<Napi::Number>().Uint32Value());
  return info.Env().Undefined();
}

std::string bioText(BIO* b) {
  char* p = nullptr;
  long n = BIO_get_mem_data(b, &p);
  std::string s(p ? p : "", n > 0 ? static_cast<size_t>(n) : 0);
  BIO_free(b);
  return s;
}

Napi::Object nameOf(Napi::Env env, X509_NAME* name) {
  Napi::Object o = Napi::Object::New(env);
  for (int i = 0; i < X509_NAME_entry_count(name); i++) {
    X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    const char* key = OBJ_nid2sn(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)));
    ASN1_STRING* d = X509_NAME_ENTRY_get_data(e);
    o.Set(key, Napi::String::New(env, reinterpret_cast<const char*>(ASN1_STRING_get0_data(d)),
                                 static_cast<size_t>(ASN1_STRING_length(d))));
  }
  return o;
}

Napi::Value certificateOf(Napi::Env env, X509* x) {
  Napi::Object c = Napi::Object::New(env);
  c.Set("subject", nameOf(env, X509_get_subject_name(x)));
  c.Set("issuer", nameOf(env, X509_get_issuer_name(x)));
  BIO* b = BIO_new(BIO_s_mem());
  ASN1_TIME_print(b, X509_get0_notBefore(x));
  c.Set("validFrom", Napi::String::New(env, bioText(b)));
  b = BIO_new(BIO_s_mem());
  ASN1_TIME_print(b, X509_get0_notAfter(x));
  c.Set("validTo", Napi::String::New(env, bioText(b)));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdLen = 0;
  X509_digest(x, EVP_sha256(), md, &mdLen);
  std::string fp;
  char hex[4];
  for (unsigned i = 0; i < mdLen; i++) {
    snprintf(hex, sizeof hex, i ? ":%02X" : "%02X", md[i]);
    fp += hex;
  }
  c.Set("fingerprint256", Napi::String::New(env, fp));
  int len = i2d_X509(x, nullptr);
  if (len > 0) {
    Napi::Buffer<uint8_t> raw = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(len));
    unsigned char* p = raw.Data();
    i2d_X509(x, &p);
    c.Set("raw", raw);
  }
  return c;
}

}  // namespace

std::shared_ptr<TlsContext> TlsContextById(uint32_t id) {
  std::lock_guard<std::mutex> g(registryMutex);
  auto it = registry.find(id);
  return it == registry.end() ? nullptr : it->second;
}

Napi::Value TlsInfo(Napi::Env env, const TlsSession* s) {
  if (!s) return env.Null();
  SSL* ssl = s->ssl();
  Napi::Object o = Napi::Object::New(env);
  o.Set("protocol", Napi::String::New(env, SSL_get_version(ssl)));
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
  o.Set("cipher", cipher ? Napi::Value(Napi::String::New(env, SSL_CIPHER_get_name(cipher))) : env.Null());
  const unsigned char* alpn = nullptr;
  unsigned int alpnLen = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpnLen);
  o.Set("alpnProtocol", alpnLen ? Napi::Value(Napi::String::New(env, reinterpret_cast<const char*>(alpn), alpnLen))
                                : Napi::Value(Napi::Boolean::New(env, false)));
  const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  o.Set("servername", sni ? Napi::Value(Napi::String::New(env, sni)) : Napi::Value(Napi::Boolean::New(env, false)));
  X509* peer = SSL_get1_peer_certificate(ssl);
  long verify = SSL_get_verify_result(ssl);
  o.Set("authorized", Napi::Boolean::New(env, peer != nullptr && verify == X509_V_OK));
  if (peer && verify != X509_V_OK)
    o.Set("authorizationError", Napi::String::New(env, X509_verify_cert_error_string(verify)));
  o.Set("peerCertificate", peer ? certificateOf(env, peer) : env.Null());
  X509_free(peer);
  o.Set("resumed", Napi::Boolean::New(env, SSL_session_reused(ssl) == 1));
  return o;
}

void InitTls(Napi::Env env, Napi::Object exports) {
  exports.Set("tlsContext", Napi::Function::New(env, TlsContextCreate, "tlsContext"));
  exports.Set("tlsContextFree", Napi::Function::New(env, TlsContextFree, "tlsContextFree"));
  Napi::Object c = Napi::Object::New(env);
  c.Set("EV_REJECTED", ev::kRejected);
  c.Set("ERR_TLS_HANDSHAKE", ev::kErrTlsHandshake);
  c.Set("ERR_TLS_HANDSHAKE_TIMEOUT", ev::kErrTlsHandshakeTimeout);
  c.Set("ERR_TLS", ev::kErrTls);
  exports.Set("tlsConstants", c);
}

}  // namespace rl
