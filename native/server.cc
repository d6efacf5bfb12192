#include "server.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "addon.h"
#include "layout.h"

namespace salvo {

namespace {

/* A connection that was shut down after its last response, and whose peer
 * has not closed within this time, is closed by the sweep timer. */
constexpr uint64_t kLingerMs = 2000;

uint32_t opt_u32(Napi::Object o, const char* key, uint32_t def) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : def;
}

}  // namespace

struct ServerCallbacks {
  static void OnConnection(uv_stream_t* s, int status) {
    static_cast<Server*>(s->data)->OnConnection(status);
  }
  static void OnListenerClosed(uv_handle_t* h) {
    Server* srv = static_cast<Server*>(h->data);
    srv->open_handles_--;
    srv->MaybeClosed();
  }
  static void OnTimer(uv_timer_t* t) { static_cast<Server*>(t->data)->Sweep(); }
};

Napi::Function Server::Init(Napi::Env env) {
  return DefineClass(env, "Server",
                     {
                         InstanceMethod<&Server::Listen>("listen"),
                         InstanceMethod<&Server::Close>("close"),
                         InstanceMethod<&Server::WriteJs>("write"),
                         InstanceMethod<&Server::End>("end"),
                         InstanceMethod<&Server::Resume>("resume"),
                         InstanceMethod<&Server::ResumeBody>("resumeBody"),
                         InstanceMethod<&Server::WatchDrain>("watchDrain"),
                         InstanceMethod<&Server::AddRoute>("addRoute"),
                         InstanceMethod<&Server::GetStats>("stats"),
                         InstanceMethod<&Server::RemoteAddress>("remoteAddress"),
                         InstanceMethod<&Server::Inject>("inject"),
                         InstanceMethod<&Server::InjectRun>("injectRun"),
                     });
}

/* new Server({ dispatch, onClose, onClosed }, { maxHeaderBytes, maxHeaders,
 *   maxBody, highWater, outSize }).  JS has validated the options. */
Server::Server(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<Server>(info), env_(info.Env()), backing_(info.Env()), pool_(&backing_) {
  Napi::Env env = info.Env();
  impl_ = env.GetInstanceData<AddonData>()->impl;
  napi_get_uv_event_loop(env, &loop_);
  Napi::Object cb = info[0].As<Napi::Object>();
  Napi::Object opts = info[1].As<Napi::Object>();
  dispatch_ = Napi::Persistent(cb.Get("dispatch").As<Napi::Function>());
  on_close_ = Napi::Persistent(cb.Get("onClose").As<Napi::Function>());
  on_closed_ = Napi::Persistent(cb.Get("onClosed").As<Napi::Function>());
  on_drain_ = Napi::Persistent(cb.Get("onDrain").As<Napi::Function>());
  on_peer_end_ = Napi::Persistent(cb.Get("onPeerEnd").As<Napi::Function>());
  detach_pending_ = Napi::Persistent(cb.Get("detachPending").As<Napi::Function>());
  on_virtual_write_ = Napi::Persistent(cb.Get("onVirtualWrite").As<Napi::Function>());
  body_ = Napi::Persistent(cb.Get("body").As<Napi::Function>());
  limits_.max_header_bytes = opt_u32(opts, "maxHeaderBytes", 16 * 1024);
  limits_.max_headers = opt_u32(opts, "maxHeaders", 2000);
  limits_.max_body = opt_u32(opts, "maxBody", 1024 * 1024);
  limits_.max_target = opt_u32(opts, "maxUrl", 8192);
  limits_.headers_timeout_ms = opt_u32(opts, "headersTimeout", 10000);
  limits_.body_timeout_ms = opt_u32(opts, "bodyTimeout", 30000);
  limits_.keep_alive_timeout_ms = opt_u32(opts, "keepAliveTimeout", 5000);
  limits_.high_water = opt_u32(opts, "highWater", 1024 * 1024);
  limits_.send_timeout_ms = opt_u32(opts, "sendTimeout", 30000);
  out_cap_ = opt_u32(opts, "outSize", 4 * 1024 * 1024);
  coalesce_turn_ = opts.Get("coalesceTurn").ToBoolean();

  auto rows = Napi::Int32Array::New(env, layout::kMaxRows * layout::kRowStride);
  auto hdrs = Napi::Int32Array::New(env, layout::kMaxHeaderEntries * layout::kHdrStride);
  auto ctl = Napi::Int32Array::New(env, layout::kCtlSize);
  auto out = Napi::Uint8Array::New(env, out_cap_);
  rows_ = rows.Data();
  hdrs_ = hdrs.Data();
  ctl_ = ctl.Data();
  out_ = out.Data();
  rows_ref_ = Napi::Persistent(rows);
  hdrs_ref_ = Napi::Persistent(hdrs);
  ctl_ref_ = Napi::Persistent(ctl);
  out_ref_ = Napi::Persistent(out);
  Value().Set("rows", rows);
  Value().Set("headers", hdrs);
  Value().Set("ctl", ctl);
  Value().Set("out", out);
  Value().Set("parser", impl_ == ParserImpl::kSse42 ? "sse42" : "scalar");
  fields_ = new HeaderField[limits_.max_headers + 1];
  async_ = new Napi::AsyncContext(env, "salvo:connection");
}

Server::~Server() {
  pool_.Release(&landing_);
  delete[] fields_;
  delete async_;
}

/* listen(host, port, backlog, reusePort) -> bound port.  Throws with the
 * libuv error name as `code` (EADDRINUSE, EACCES...); JS wraps it.
 *
 * reusePort: SO_REUSEPORT (Linux >= 3.9), so that several servers (worker
 * threads or processes) bind the same address and the kernel spreads new
 * connections over them by a hash of the 4-tuple.  libuv only learnt
 * UV_TCP_REUSEPORT in 1.49 and Node 20 ships 1.46, so the socket is made
 * here first (uv_tcp_init_ex with the family creates it), and the option is
 * set on its fd before uv_tcp_bind.  Without it the port stays exclusive:
 * a second bind fails with EADDRINUSE (libuv's SO_REUSEADDR does not share
 * a listening port on Linux). */
static int SetReusePort(uv_tcp_t* tcp) {
#ifdef SO_REUSEPORT
  uv_os_fd_t fd;
  int r = uv_fileno(reinterpret_cast<uv_handle_t*>(tcp), &fd);
  if (r != 0) return r;
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) return uv_translate_sys_error(errno);
  return 0;
#else
  (void)tcp;
  return UV_ENOTSUP;
#endif
}

Napi::Value Server::Listen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string host = info[0].As<Napi::String>();
  int port = info[1].As<Napi::Number>().Int32Value();
  int backlog = info[2].As<Napi::Number>().Int32Value();
  bool reuse_port = info[3].ToBoolean().Value();
  struct sockaddr_storage addr;
  int r = uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr));
  if (r != 0) r = uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr));
  if (r == 0) r = uv_tcp_init_ex(loop_, &listener_, addr.ss_family);
  if (r == 0) {
    listener_.data = this;
    open_handles_++;
    if (reuse_port) r = SetReusePort(&listener_);
    if (r == 0) r = uv_tcp_bind(&listener_, reinterpret_cast<sockaddr*>(&addr), 0);
    if (r == 0) r = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), backlog,
                              ServerCallbacks::OnConnection);
    if (r != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(&listener_),
               [](uv_handle_t* h) { static_cast<Server*>(h->data)->open_handles_--; });
    }
  }
  if (r != 0) {
    Napi::Error e = Napi::Error::New(env, std::string(uv_strerror(r)));
    e.Set("code", Napi::String::New(env, uv_err_name(r)));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  listening_ = true;
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
  open_handles_++;
  /* One timer per server walks every connection (not one timer each): its
   * period is a quarter of the shortest timeout, between 50 ms and 1 s. */
  uint64_t shortest = std::min({limits_.headers_timeout_ms, limits_.body_timeout_ms,
                                limits_.keep_alive_timeout_ms, limits_.send_timeout_ms,
                                static_cast<uint32_t>(kLingerMs)});
  uint64_t period = std::max<uint64_t>(50, std::min<uint64_t>(1000, shortest / 4));
  uv_timer_start(&timer_, ServerCallbacks::OnTimer, period, period);
  uv_unref(reinterpret_cast<uv_handle_t*>(&timer_));
  if (coalesce_turn_) {  // turn.cc; closed last, by MaybeClosed
    uv_check_init(loop_, &turn_check_);
    turn_check_.data = this;
    uv_unref(reinterpret_cast<uv_handle_t*>(&turn_check_));
    turn_handle_ = TurnHandle::kOpen;
  }
  Ref();  // the handles point at us: stay alive until onClosed
  napi_add_async_cleanup_hook(env, OnAsyncCleanup, this, &cleanup_);
  struct sockaddr_storage name;
  int len = sizeof name;
  uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&name), &len);
  int bound = name.ss_family == AF_INET6
                  ? ntohs(reinterpret_cast<sockaddr_in6*>(&name)->sin6_port)
                  : ntohs(reinterpret_cast<sockaddr_in*>(&name)->sin_port);
  return Napi::Number::New(env, bound);
}

void Server::ResumeRead(Conn* c) {
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&c->tcp),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        Conn* c = static_cast<Conn*>(h->data);
        Server* srv = c->server;
        Slab* into = c->slab;
        size_t at = c->len;
        if (!into) {
          /* No slab (idle, or a short partial request parked off-slab): read
           * into the server's landing slab, parked bytes first; OnRead hands
           * it over only if bytes arrived.  A read that brings only EOF
           * (10k idle clients leaving) takes no slab. */
          if (!srv->landing_) srv->landing_ = srv->pool_.Acquire();
          into = srv->landing_;
          at = c->parked_len;
          if (into && c->parked) memcpy(into->data, c->parked, c->parked_len);
        }
        if (!into) {  // no memory: libuv reports ENOBUFS and we close
          *buf = uv_buf_init(nullptr, 0);
          return;
        }
        buf->base = into->data + at;
        buf->len = static_cast<unsigned>(into->cap - at);
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
        Conn* c = static_cast<Conn*>(s->data);
        c->server->OnRead(c, nread);
      });
}

Conn* Server::NewConn() {
  Conn* c = new Conn();
  c->server = this;
  c->id = conns_.Add(c);
  return c;
}

void Server::OnConnection(int status) {
  if (status < 0 || closing_) return;
  Conn* c = NewConn();
  uv_tcp_init(loop_, &c->tcp);
  c->tcp.data = c;
  open_handles_++;
  if (uv_accept(reinterpret_cast<uv_stream_t*>(&listener_),
                reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
    CloseConn(c);
    return;
  }
  stats.accepted++;
  c->last_active = uv_now(loop_);
  // Responses are written whole, once per batch: Nagle would only delay them.
  uv_tcp_nodelay(&c->tcp, 1);
  ResumeRead(c);
}

/* Accepts what waits in the listener's queue (non-blocking, until EAGAIN). */
void Server::AcceptBacklog(std::vector<Conn*>* out) {
  uv_os_fd_t lfd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&listener_), &lfd) != 0) return;
  for (;;) {
    int fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    Conn* c = NewConn();
    uv_tcp_init(loop_, &c->tcp);
    c->tcp.data = c;
    open_handles_++;
    if (uv_tcp_open(&c->tcp, fd) != 0) {
      ::close(fd);
      CloseConn(c);
      continue;
    }
    stats.accepted++;
    c->last_active = uv_now(loop_);
    uv_tcp_nodelay(&c->tcp, 1);
    ResumeRead(c);
    out->push_back(c);
  }
}

/* close(force): stop accepting; connections with nothing in flight close
 * after their output is flushed, the others after their last response;
 * force closes everything now. */
bool Server::HasWaitingBytes(Conn* c) {
  if (c->is_virtual) return false;
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&c->tcp), &fd) != 0) return false;
  char b;
  return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

Napi::Value Server::Close(const Napi::CallbackInfo& info) {
  bool force = info.Length() > 0 && info[0].ToBoolean();
  bool spare_unused = info.Length() > 1 && info[1].ToBoolean();
  if (!listening_) return info.Env().Undefined();
  std::vector<Conn*> backlog;
  if (!closing_) {
    /* With SO_REUSEPORT the kernel has already put connections in this
     * listener's accept queue; closing it would reset them while the other
     * servers on the port keep running (a reload would lose requests).  So
     * they are accepted now and served like any other; they close after their
     * answers (Connection: close), when idle past keepAliveTimeout, or at
     * close()'s timeout. */
    AcceptBacklog(&backlog);
    closing_ = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), ServerCallbacks::OnListenerClosed);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), ServerCallbacks::OnListenerClosed);
  }
  for (Conn* c : conns_.all()) {
    if (!c || c->closed) continue;
    if (!force && std::find(backlog.begin(), backlog.end(), c) != backlog.end()) continue;
    /* Accepted, nothing read yet: its first request may be on its way (a
     * reload under load), so the first call spares it (JS calls again after
     * a short grace); then only one whose request waits unread in the socket
     * is served like the backlog's, and one that has sent nothing is idle. */
    if (!force && !c->got_bytes && (spare_unused || HasWaitingBytes(c))) continue;
    // Its read waits for the turn's pass (coalesceTurn): served like the backlog's.
    if (!force && c->in_turn) continue;
    // A body still streaming to its handler ends first; Process closes after it.
    if (!force && c->BodyFlowing()) continue;
    if (force) {
      CloseConn(c);
    } else {
      c->no_more = true;
      c->closing = true;
      FinishIfClosing(c);
    }
  }
  return info.Env().Undefined();
}

void Server::CloseAll() {
  for (Conn* c : conns_.all())
    if (c && !c->closed) CloseConn(c);
}

/* Called when a handle of ours finished closing.  Once the listener, the
 * timer and every connection are closed, tell JS and let GC have us. */
void Server::MaybeClosed() {
  if (!closing_ || open_handles_ > 0) return;
  if (CloseTurnHandle()) return;  // its close callback comes back here
  listening_ = false;
  if (cleanup_) {
    napi_remove_async_cleanup_hook(cleanup_);
    cleanup_ = nullptr;
  }
  if (shutting_down_) return;
  Napi::HandleScope scope(env_);
  Invoke(on_closed_, 0, nullptr, true);
  Unref();
}

/* The environment is going away (worker exit, process exit): close every
 * handle without calling into JS. */
void Server::OnAsyncCleanup(napi_async_cleanup_hook_handle handle, void* arg) {
  Server* srv = static_cast<Server*>(arg);
  srv->shutting_down_ = true;
  srv->cleanup_ = handle;
  if (!srv->closing_) {
    srv->closing_ = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&srv->listener_), ServerCallbacks::OnListenerClosed);
    uv_close(reinterpret_cast<uv_handle_t*>(&srv->timer_), ServerCallbacks::OnListenerClosed);
  }
  srv->CloseAll();
  srv->MaybeClosed();
}

/* The per-server sweep: timeouts (RFC 9110 15.5.9 408 for slow requests;
 * idle keep-alive connections closed), and lingering closes. */
void Server::Sweep() {
  // The canned 408 (rare: built when needed), with a Date as every response has.
  auto response_408 = []() {
    static const char body[] =
        "{\"statusCode\":408,\"code\":\"SALVO_ERR_REQUEST_TIMEOUT\",\"error\":\"Request Timeout\","
        "\"message\":\"The request did not arrive within headersTimeout or bodyTimeout\"}";
    char date[64];
    time_t t = time(nullptr);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);  // IMF-fixdate, RFC 9110 5.6.7
    return std::string("HTTP/1.1 408 Request Timeout\r\nDate: ") + date +
           "\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: " +
           std::to_string(sizeof body - 1) + "\r\nConnection: close\r\n\r\n" + body;
  };
  uint64_t now = uv_now(loop_);
  for (Conn* c : conns_.all()) {
    if (!c || c->closed || c->is_virtual) continue;
    if (c->shut) {
      /* Lingering close, bounded from the shutdown: bytes the client keeps
       * trickling in do not extend it. */
      if (now - c->shut_at > kLingerMs) CloseConn(c);
      continue;
    }
    /* Progress is any byte the kernel took, also in the middle of one large
     * queued write (libuv's write queue shrinks as it goes). */
    size_t wq = uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(&c->tcp));
    if (wq != c->last_wq) {
      c->last_wq = wq;
      c->send_since = now;
    }
    if (c->queued > 0 && now - c->send_since > limits_.send_timeout_ms) {
      // The client has not taken any of our output for sendTimeout: it is gone or hostile.
      CloseConn(c);
      continue;
    }
    // A paused connection's unparsed requests wait for us, not for the client.
    if (c->partial_since != 0 && !c->no_more && !c->js_paused) {
      uint64_t limit = c->partial_head_done ? limits_.body_timeout_ms : limits_.headers_timeout_ms;
      if (now - c->partial_since > limit) {
        /* A slow request (slowloris): answer 408 and close.  With answers
         * still pending before it, a 408 would be out of order: just close. */
        c->no_more = true;
        c->closing = true;
        ReleaseSlab(c);
        if (c->inflight == 0) {
          std::string r408 = response_408();
          uv_buf_t b = uv_buf_init(const_cast<char*>(r408.data()), static_cast<unsigned>(r408.size()));
          Write(c, &b, 1);
          FinishIfClosing(c);
        } else {
          CloseConn(c);
        }
        continue;
      }
    }
    bool idle = c->partial_since == 0 && c->inflight == 0 && c->queued == 0 && !c->closing;
    /* A request may already wait unread in the socket: libuv runs timers
     * before it polls, so after a busy stretch of the loop this sweep sees
     * the connection "idle" past the timeout though the client (a proxy
     * reusing its keep-alive connection) has sent the next request.  Closing
     * then drops that request unanswered: nginx answers a POST 502 (it
     * retries only idempotent ones).  So a reading connection with bytes
     * waiting is not idle; the read that follows serves it.  One MSG_PEEK,
     * only for connections already past the timeout. */
    if (idle && now - c->last_active > limits_.keep_alive_timeout_ms && !(c->reading && HasWaitingBytes(c))) {
      c->no_more = true;
      c->closing = true;
      FinishIfClosing(c);
    }
  }
}

/* Reading is on unless the client is behind on our output (backpressure),
 * JS has too many answers pending on it, or the connection is ending. */
void Server::UpdateReading(Conn* c) {
  if (c->closed || c->is_virtual) return;
  bool want = (!c->no_more || c->shut) && !c->js_paused && !c->body_paused &&
              c->queued <= limits_.high_water;
  if (c->shut) want = true;  // drain input until the peer's FIN
  if (want && !c->reading) {
    c->reading = true;
    ResumeRead(c);
  } else if (!want && c->reading) {
    c->reading = false;
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&c->tcp));
  }
}

void Server::CallJs(Napi::FunctionReference& fn, int id) {
  if (shutting_down_) return;
  Napi::HandleScope scope(env_);
  napi_value arg = Napi::Number::New(env_, id);
  Invoke(fn, 1, &arg, true);
}

/* Calls into JS with the raw N-API (node-addon-api would try to throw on a
 * failed call, which is fatal while a worker is being terminated).  `scope`:
 * as a callback from the loop (runs ticks and microtasks after), else a plain
 * call inside an open CallbackScope.  A JS exception here is a salvo bug: it
 * is reported as uncaught, as Node does.  Returns false when the call failed
 * (the caller then drops the connection). */
bool Server::Invoke(Napi::FunctionReference& fn, size_t argc, const napi_value* argv, bool scope,
                    napi_value* out) {
  napi_value result;
  napi_status st = scope ? napi_make_callback(env_, async_ ? static_cast<napi_async_context>(*async_) : nullptr,
                                              Value(), fn.Value(), argc, argv, &result)
                         : napi_call_function(env_, Value(), fn.Value(), argc, argv, &result);
  if (st == napi_ok) {
    if (out) *out = result;
    return true;
  }
  bool pending = false;
  napi_is_exception_pending(env_, &pending);
  if (pending) {
    napi_value err;
    if (napi_get_and_clear_last_exception(env_, &err) == napi_ok && !shutting_down_) {
      napi_valuetype t;
      if (napi_typeof(env_, err, &t) == napi_ok && t != napi_undefined) napi_fatal_exception(env_, err);
    }
  }
  return false;
}

}  // namespace salvo
