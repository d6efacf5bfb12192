/* The verbs JS calls on a Server (src/native.ts types them): write, end,
 * resume, watchDrain, addRoute, remoteAddress, inject/injectRun, stats.  JS
 * validates the arguments; these assume them valid.  Honest verbs, one job
 * each, rather than one call with flags. */
#include <string.h>

#include <algorithm>

#include "layout.h"
#include "server.h"

namespace salvo {

/* write(connId, bytes, length, extra, answered): sends bytes[0, length) and
 * then the optional `extra` (a large body or chunk passed by reference), in
 * that order, as one write; `answered` requests owed on the connection are
 * settled by these bytes.  Returns the connection's unsent bytes after it.
 * The bytes are copied only when the kernel does not take them all. */
Napi::Value Server::WriteJs(const Napi::CallbackInfo& info) {
  int id = info[0].As<Napi::Number>().Int32Value();
  Conn* c = conns_.Get(id);
  if (!c || c->closed) return Napi::Number::New(info.Env(), 0);
  Napi::Uint8Array bytes = info[1].As<Napi::Uint8Array>();
  size_t len = std::min<size_t>(info[2].As<Napi::Number>().Uint32Value(), bytes.ByteLength());
  int answered = info[4].As<Napi::Number>().Int32Value();
  uv_buf_t bufs[2];
  unsigned n = 0;
  if (len > 0) bufs[n++] = uv_buf_init(reinterpret_cast<char*>(bytes.Data()), static_cast<unsigned>(len));
  if (info[3].IsTypedArray()) {
    Napi::Uint8Array extra = info[3].As<Napi::Uint8Array>();
    if (extra.ByteLength() > 0)
      bufs[n++] = uv_buf_init(reinterpret_cast<char*>(extra.Data()), static_cast<unsigned>(extra.ByteLength()));
  }
  if (n > 0) Write(c, bufs, n);
  // Each answer is reported once by JS; never let a count go below zero.
  if (answered > 0) c->inflight -= std::min(answered, c->inflight);
  if (c->closed) return Napi::Number::New(info.Env(), 0);
  double queued = static_cast<double>(c->queued);
  FinishIfClosing(c);
  return Napi::Number::New(info.Env(), queued);
}

/* end(connId): close the connection once its output is flushed (and no
 * answers are owed). */
Napi::Value Server::End(const Napi::CallbackInfo& info) {
  Conn* c = conns_.Get(info[0].As<Napi::Number>().Int32Value());
  if (c && !c->closed) {
    c->no_more = true;
    c->closing = true;
    FinishIfClosing(c);
  }
  return info.Env().Undefined();
}

/* resume(connId): JS no longer holds too many answers: read again. */
Napi::Value Server::Resume(const Napi::CallbackInfo& info) {
  Conn* c = conns_.Get(info[0].As<Napi::Number>().Int32Value());
  if (c && !c->closed) {
    c->js_paused = false;
    UpdateReading(c);
    /* Bytes that arrived before the pause and were not parsed yet are
     * processed now (deferred requests ran; the rest of the read follows). */
    if (c->len > 0 && !c->no_more && !c->in_process && c->slab) Process(c);
  }
  return info.Env().Undefined();
}

/* resumeBody(connId): the JS consumer of a streamed body wants more: read
 * again (paused when body() returned false). */
Napi::Value Server::ResumeBody(const Napi::CallbackInfo& info) {
  Conn* c = conns_.Get(info[0].As<Napi::Number>().Int32Value());
  if (c && !c->closed && c->body_paused) {
    c->body_paused = false;
    UpdateReading(c);
    if (c->len > 0 && !c->no_more && !c->in_process && c->slab) Process(c);
  }
  return info.Env().Undefined();
}

/* watchDrain(connId) -> unsent bytes; when that is above half the
 * high-water mark, onDrain(connId) is called once it falls below. */
Napi::Value Server::WatchDrain(const Napi::CallbackInfo& info) {
  Conn* c = conns_.Get(info[0].As<Napi::Number>().Int32Value());
  if (!c || c->closed) return Napi::Number::New(info.Env(), 0);
  if (c->queued > limits_.high_water / 2) c->want_drain = true;
  return Napi::Number::New(info.Env(), static_cast<double>(c->queued));
}

/* addRoute(methodId | -1, pattern, id, streamLimit) -> false when the pattern
 * cannot be matched natively (JS then disables native matching; see app.ts).
 * streamLimit >= 0: the route's body is streamed (bodyStream), at most that
 * many bytes; -1: buffered. */
Napi::Value Server::AddRoute(const Napi::CallbackInfo& info) {
  int id = info[2].As<Napi::Number>().Int32Value();
  bool ok = routes_.Add(info[0].As<Napi::Number>().Int32Value(),
                        info[1].As<Napi::String>().Utf8Value(), id);
  double limit = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().DoubleValue() : -1;
  if (ok && id >= 0 && limit >= 0) {
    if (stream_limit_.size() <= static_cast<size_t>(id)) stream_limit_.resize(id + 1, -1);
    stream_limit_[id] = limit;
    any_stream_ = true;
  }
  return Napi::Boolean::New(info.Env(), ok);
}

/* remoteAddress(connId) -> the peer's IP, or '' (virtual or closed). */
Napi::Value Server::RemoteAddress(const Napi::CallbackInfo& info) {
  int id = info[0].As<Napi::Number>().Int32Value();
  Conn* c = conns_.Get(id);
  if (!c || c->closed) return Napi::String::New(info.Env(), "");
  if (c->is_virtual) return Napi::String::New(info.Env(), "127.0.0.1");
  struct sockaddr_storage addr;
  int len = sizeof addr;
  char ip[64] = "";
  if (uv_tcp_getpeername(&c->tcp, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    if (addr.ss_family == AF_INET6)
      uv_ip6_name(reinterpret_cast<sockaddr_in6*>(&addr), ip, sizeof ip);
    else
      uv_ip4_name(reinterpret_cast<sockaddr_in*>(&addr), ip, sizeof ip);
  }
  return Napi::String::New(info.Env(), ip);
}

/* inject(bytes) -> id of a virtual connection that holds `bytes` as if they
 * had been read from a socket.  It has no handle: what it writes goes to
 * onVirtualWrite, and its close is reported by onClose as usual.  JS
 * registers the id, then calls injectRun(id). */
Napi::Value Server::Inject(const Napi::CallbackInfo& info) {
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  Conn* c = NewConn();
  c->is_virtual = true;
  c->reading = false;
  c->slab = pool_.Acquire(std::max(SlabPool::kSlabSize, static_cast<size_t>(bytes.ByteLength())));
  if (!c->slab) {
    CloseConn(c);
    Napi::Error::New(info.Env(), "inject: out of memory").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  memcpy(c->slab->data, bytes.Data(), bytes.ByteLength());
  c->len = bytes.ByteLength();
  return Napi::Number::New(info.Env(), c->id);
}

Napi::Value Server::InjectRun(const Napi::CallbackInfo& info) {
  int id = info[0].As<Napi::Number>().Int32Value();
  Conn* c = conns_.Get(id);
  if (c && c->is_virtual && !c->closed) {
    /* Held across Process: a virtual connection is freed synchronously when
     * it closes, which may happen inside Process (its answer is complete). */
    c->in_process = true;
    if (c->len > 0) Process(c);
    // All input is there: whatever is left over is a request that never ends.
    if (!c->closed) {
      c->no_more = true;
      c->closing = true;
    }
    c->in_process = false;
    if (c->closed) OnConnClosed(c);
    else FinishIfClosing(c);
  }
  return info.Env().Undefined();
}

Napi::Value Server::GetStats(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("reads", stats.reads);
  o.Set("writes", stats.writes);
  o.Set("batches", stats.batches);
  o.Set("requests", stats.requests);
  o.Set("accepted", stats.accepted);
  o.Set("connections", static_cast<double>(conns_.count()));
  // Slabs held by connections (the landing slab is the server's own).
  o.Set("slabs", static_cast<double>(pool_.live() - (landing_ ? 1 : 0)));
  return o;
}

}  // namespace salvo
