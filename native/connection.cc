/* The per-connection data path: read -> parse the whole batch -> one JS call
 * -> one write.  See docs/ARCHITECTURE.md for the picture. */
#include <stdlib.h>
#include <string.h>

#include <algorithm>

#include "chunked.h"
#include "framing.h"
#include "layout.h"
#include "server.h"

namespace salvo {

namespace {

inline uv_stream_t* stream(Conn* c) { return reinterpret_cast<uv_stream_t*>(&c->tcp); }

/* Where the path starts in a request-target.  origin-form is the path;
 * absolute-form ("http://host/p?q", which a server MUST accept, RFC 9112
 * 3.2.2) has it after the authority, and an empty one ends the target there.
 * Other forms (authority, asterisk) are routed as they are. */
[[gnu::always_inline]] inline const char* path_of(const char* t, size_t n) {
  if (n == 0 || t[0] == '/') return t;
  size_t i = 0;
  while (i < n && ((t[i] | 0x20) >= 'a' && (t[i] | 0x20) <= 'z')) i++;
  if (i == 0 || i + 3 > n || memcmp(t + i, "://", 3) != 0) return t;
  const char* auth = t + i + 3;
  const char* slash = static_cast<const char*>(memchr(auth, '/', n - (i + 3)));
  if (slash) return slash;
  const char* q = static_cast<const char*>(memchr(auth, '?', n - (i + 3)));
  return q ? q : t + n;
}

}  // namespace

/* The row's method, target, path and route (matched here: no JS string for
 * the path on the hot path); returns the route id or -1.  Inlined (server.h)
 * into Process's two call sites (out of line it cost the hello path ~45
 * instructions a request, callgrind).  With the split of next_message and
 * NextStreamed out of line, a server without streamed routes pays ~24
 * instructions a request for them (of ~2,400; main: Process + next_message
 * 229 a request, now 253). */
int Server::RouteRow(const RequestHead& head, const char* base, int32_t* row) {
  using namespace layout;
  int method = method_id(head.method, head.method_len);
  size_t tlen = head.target_len;
  const char* path = path_of(head.target, tlen);
  size_t rest_len = tlen - static_cast<size_t>(path - head.target);
  const char* q = static_cast<const char*>(memchr(path, '?', rest_len));
  size_t plen = q ? static_cast<size_t>(q - path) : rest_len;
  row[kMethod] = method;
  int np = 0;
  int rid = routes_.Find(method, base, path, plen, row + kParams, &np);
  row[kRoute] = rid;
  row[kPathOff] = static_cast<int32_t>(path - base);
  row[kParamCount] = np;
  row[kTargetOff] = static_cast<int32_t>(head.target - base);
  row[kTargetLen] = static_cast<int32_t>(tlen);
  row[kPathLen] = static_cast<int32_t>(plen);
  return rid;
}

/* next_message for a server with streamed routes: the head first, then its
 * route, then either the body framed as usual or (a streamed route, a body)
 * the head alone, with stream_limit_next_ set to the route's bodyLimit (else
 * -1).  Out of line, so that Process's loop for the other servers stays as
 * it was. */
[[gnu::noinline]] int Server::NextStreamed(char* buf, size_t len, const char* base, int32_t* row,
                                          Message* m) {
  stream_limit_next_ = -1;
  int r = next_head(impl_, buf, len, limits_, fields_, m);
  if (r <= 0) return r;
  int rid = RouteRow(m->head, base, row);
  bool has_body = m->framing.chunked || m->framing.content_length > 0;
  double limit = -1;
  if (rid >= 0 && static_cast<size_t>(rid) < stream_limit_.size() && has_body) limit = stream_limit_[rid];
  if (limit < 0) return next_body(buf, len, limits_, m);
  // The whole body is known to be too large: refused before the handler runs.
  if (!m->framing.chunked && static_cast<double>(m->framing.content_length) > limit) return -413;
  m->body_len = 0;
  m->consumed = m->head_len;
  stream_limit_next_ = limit;
  return r;
}

void Server::ReleaseSlab(Conn* c) {
  pool_.Release(&c->slab);
  c->len = 0;
  free(c->parked);
  c->parked = nullptr;
  c->parked_len = 0;
}

/* Between reads, a short unfinished request (a partial head, typically) is
 * moved off its 64 KiB slab into a block of its own size, and the slab goes
 * back to the pool: an idle half-open connection costs about what it sent.
 * Past kParkMax the request is large anyway and keeps its slab. */
constexpr size_t kParkMax = 16 * 1024;

void Server::Park(Conn* c) {
  if (!c->slab || c->is_virtual) return;
  if (c->len == 0) {
    pool_.Release(&c->slab);
    return;
  }
  if (c->len > kParkMax || c->parked) return;
  char* p = static_cast<char*>(malloc(c->len));
  if (!p) return;  // keep the slab
  memcpy(p, c->slab->data, c->len);
  c->parked = p;
  c->parked_len = c->len;
  pool_.Release(&c->slab);
}

void Server::OnRead(Conn* c, ssize_t nread) {
  // The bytes landed in the landing slab (see ResumeRead): it becomes this connection's.
  if (nread > 0 && !c->slab) {
    c->slab = landing_;
    landing_ = nullptr;
    c->len = c->parked_len;
    free(c->parked);
    c->parked = nullptr;
    c->parked_len = 0;
  }
  if (nread < 0 && c->in_turn && c->slab) {
    Process(c);  // what arrived before the EOF or error is answered first
    if (c->closed) return;
  }
  if (nread < 0) {
    /* A body streaming to its handler ends with the connection: the handler
     * sees its stream fail ('aborted') rather than wait for bytes that will
     * not come.  (After a close JS's onClose does the same.) */
    if (c->BodyFlowing()) {
      c->body.active = false;
      CallBody(c, 0, 0, layout::kBodyAborted, true);
      if (c->closed) return;
    }
    /* EOF: a client may half-close after its last request; answer what is
     * in flight, then close (as node:http does with allowHalfOpen false). */
    if (nread == UV_EOF && !c->shut && (c->inflight > 0 || c->queued > 0)) {
      uv_read_stop(stream(c));
      c->reading = false;
      c->no_more = true;
      c->closing = true;
      ReleaseSlab(c);  // nothing after the FIN will be parsed
      /* The client is gone (or half-closed): the requests it still waits on
       * see req.signal abort; what they answer is still sent. */
      if (c->inflight > 0) CallJs(on_peer_end_, c->id);
      if (!c->closed) FinishIfClosing(c);
      return;
    }
    CloseConn(c);
    return;
  }
  c->last_active = uv_now(loop_);
  if (c->no_more) {
    /* After the last response (Connection: close, an error, shutdown) the
     * rest of the input is read and dropped, so the close is a FIN and not
     * an RST that could destroy the response in flight (RFC 9112 9.6). */
    c->len = 0;
    ReleaseSlab(c);
    return;
  }
  if (nread == 0) {
    if (!c->in_turn) Park(c);  // a queued read parks after its pass
    return;
  }
  c->len += static_cast<size_t>(nread);
  c->got_bytes = true;
  stats.reads++;
  /* coalesceTurn: the batch runs with the turn's others after the poll
   * phase; a read that filled the slab runs now (libuv reads on into a
   * full buffer, which it cannot). */
  if (coalesce_turn_ && turn_handle_ == TurnHandle::kOpen && c->len < c->slab->cap) {
    QueueTurn(c);
    return;
  }
  Process(c);
}

void Server::Process(Conn* c) {
  using namespace layout;
  Napi::Env env = env_;
  Napi::HandleScope hs(env);
  /* Promise jobs queued by the handlers run when this scope closes: after
   * the batch's responses are written, so an async response never lands in
   * the output arena while the batch still occupies it.
   * (Inside coalesceTurn's outer scope, RunTurn, closing this one runs
   * nothing: the batch's answers leave with the turn's flush.) */
  RawCallbackScope cs(env, Value(), *async_);
  c->in_turn = false;  // run now, not (again) by the turn's pass
  DetachPending();  // a batch before this one (nested) must not see its tables overwritten
  /* Neither shut down nor freed while the batch runs: a handler may call
   * server.close() or end the connection; the batch's answers still go out. */
  bool outer = !c->in_process;
  c->in_process = true;
  bool owed = false;  // a sub-batch left answers owed: JS ends its checkpoint
  Slab* slab = c->slab;
  const char* base = slab->data;
  size_t pos = 0;
  uint32_t out_len = 0;
  c->need = 0;
  for (bool more = true; more && !c->closed && !c->js_paused;) {
    more = false;
    DetachPending();  // the previous sub-batch's pending requests, before the tables are reused
    if (c->body.active) {
      /* A streamed body comes before anything after it: hand what this read
       * holds of it to JS; parse on only once it has ended. */
      if (c->body_paused || c->no_more) break;
      DeliverBody(c, &pos);
      if (c->body.active || c->closed || c->no_more) break;
    }
    int rows = 0, nhdr = 0, error = 0;
    while (rows < kMaxRows && pos < c->len && !c->no_more) {
      if (nhdr + static_cast<int>(limits_.max_headers) > kMaxHeaderEntries) {
        more = true;
        break;
      }
      Message m;
      m.chunk = c->chunk;
      int r;
      bool stream = false;  // this request's body is streamed (limit: stream_limit_next_)
      if (!any_stream_) {
        r = next_message(impl_, slab->data + pos, c->len - pos, limits_, fields_, &m);
      } else {
        r = NextStreamed(slab->data + pos, c->len - pos, base, rows_ + rows * kRowStride, &m);
        stream = stream_limit_next_ >= 0;
      }
      c->chunk = m.chunk;
      if (r == kParseIncomplete) {
        c->need = m.need;
        c->partial_head_done = m.head_len > 0;
        /* Expect: 100-continue (RFC 9110 10.1.1): invite the body once the
         * head is in, unless answers to earlier requests are still to come
         * (an interim response must not overtake them; the client sends
         * the body after its own timeout then). */
        if (m.head_len > 0 && m.framing.expect_continue && !c->continue_sent &&
            c->inflight == 0 && rows == 0 && out_len == 0 && c->queued == 0) {
          static const char k100[] = "HTTP/1.1 100 Continue\r\n\r\n";
          uv_buf_t b = uv_buf_init(const_cast<char*>(k100), sizeof k100 - 1);
          Write(c, &b, 1);
          c->continue_sent = true;
        }
        break;
      }
      c->continue_sent = false;
      if (r < 0) {
        error = -r;
        break;
      }
      const RequestHead& head = m.head;
      int32_t* row = rows_ + rows * kRowStride;
      if (!any_stream_) RouteRow(head, base, row);  // else done above, before the body
      row[kMinor] = head.minor_version;
      row[kHdrStart] = nhdr;
      row[kHdrCount] = static_cast<int32_t>(m.num_headers);
      row[kBodyOff] = static_cast<int32_t>(pos + m.head_len);
      row[kBodyLen] = static_cast<int32_t>(m.body_len);
      row[kFlags] = (m.framing.keep_alive ? kKeepAlive : 0) |
                    (m.framing.expect_continue ? kExpectContinue : 0);
      if (stream) {
        row[kFlags] = kStreamBody | (m.framing.keep_alive ? kBodyKeepAlive : 0) |
                      (m.framing.expect_continue ? kExpectContinue : 0);
      }
      row[kMethodOff] = static_cast<int32_t>(head.method - base);
      row[kMethodLen] = static_cast<int32_t>(head.method_len);
      int32_t* h = hdrs_ + nhdr * kHdrStride;
      for (size_t i = 0; i < m.num_headers; i++, h += kHdrStride) {
        h[0] = static_cast<int32_t>(fields_[i].name - base);
        h[1] = static_cast<int32_t>(fields_[i].name_len);
        h[2] = static_cast<int32_t>(fields_[i].value - base);
        h[3] = static_cast<int32_t>(fields_[i].value_len);
      }
      nhdr += static_cast<int>(m.num_headers);
      pos += m.consumed;
      rows++;
      if (stream) {
        StartBody(c, m, stream_limit_next_, rows == 1 && out_len == 0, pos);
        more = true;  // its body follows, in this read or later ones
        break;
      }
      if (!m.framing.keep_alive) c->no_more = true;  // nothing after it is answered
    }
    if (rows == kMaxRows) more = true;
    if (rows == 0 && error == 0) break;
    if (error) c->no_more = true;
    ctl_[kOutLen] = static_cast<int32_t>(out_len);
    ctl_[kPending] = 0;
    ctl_[kClose] = 0;
    ctl_[kError] = error;
    ctl_[kPause] = 0;
    ctl_[kQueued] = static_cast<int32_t>(std::min<size_t>(c->queued + out_len, INT32_MAX));
    stats.batches++;
    stats.requests += rows;
    napi_value args[3] = {Napi::Number::New(env, c->id), Napi::Number::New(env, rows),
                          backing_.View(slab)};
    if (!Invoke(dispatch_, 3, args, false)) {
      /* dispatch catches handler errors itself: a failure is a salvo bug
       * (reported as uncaught by Invoke) or the environment going away. */
      out_len = 0;
      CloseConn(c);
      break;
    }
    out_len = static_cast<uint32_t>(ctl_[kOutLen]);
    // Answers JS still owes (async, or deferred past the high-water mark).
    if (ctl_[kPending] > 0) {
      owed = true;
      c->inflight += ctl_[kPending];
      lazy_ = true;  // their requests still view the slab and the tables
    }
    if (ctl_[kClose]) {
      c->no_more = true;
      c->closing = true;
    }
    /* Paused: too many answers owed, or the rest of the batch deferred past
     * the high-water mark.  What is not parsed yet stays in the slab. */
    if (ctl_[kPause]) c->js_paused = true;
  }
  /* close() spared this connection (its request had not arrived, or it was
   * in the listener's backlog): it ends after this batch's answers, like
   * the busy ones close() found. */
  if (closing_ && !c->no_more && !c->BodyFlowing()) {
    c->no_more = true;
    c->closing = true;
  }
  if (!c->closed && out_len > 0) {
    uv_buf_t b = uv_buf_init(reinterpret_cast<char*>(out_), out_len);
    Write(c, &b, 1);
  }
  /* The microtask checkpoint, now, while the slab and the tables still hold
   * the batch: answers that settle in it (`async () => value`) read their
   * request in place; only the requests still pending after it copy their
   * bytes out (DetachPending), before the slab's tail moves or it is reused. */
  if (owed) ctl_[kHanded] = 0;
  cs.Close();
  /* JS hands the output back: when the batch left answers owed, its own
   * bytes stayed in the arena as the connection's cork (JS did not report
   * them above), and the answers settled in the checkpoint were appended to
   * them; kOutLen says how many bytes leave now, in one write, and kAnswered
   * how many owed answers they hold (ConnQueues.handBack).  It does so in
   * detachPending, or already inside the checkpoint once every request of
   * the batch was answered and its handler had returned (kHanded: this
   * connection's id + 1; Dispatcher.endEarly): then no call is needed. */
  bool handed = owed && ctl_[kHanded] == c->id + 1;
  if (handed) {
    ctl_[kHanded] = 0;
    lazy_ = false;  // JS ended the batch's requests
  } else {
    if (owed) {
      // Reset first: a batch nested in the checkpoint used the table.
      ctl_[kOutLen] = 0;
      ctl_[kAnswered] = 0;
      ctl_[kClose] = 0;
    }
    DetachPending(owed);
  }
  if (owed && !c->closed) {
    size_t late = std::min(static_cast<size_t>(std::max(ctl_[kOutLen], 0)), out_cap_);
    if (late > 0) {
      uv_buf_t b = uv_buf_init(reinterpret_cast<char*>(out_), static_cast<unsigned>(late));
      Write(c, &b, 1);
    }
    int answered = ctl_[kAnswered];
    if (answered > 0) c->inflight -= std::min(answered, c->inflight);
    if (ctl_[kClose] && !c->closed) {
      c->no_more = true;
      c->closing = true;
    }
  }
  if (outer) c->in_process = false;
  if (c->closed) {
    // A virtual connection that closed inside the batch is freed now (CloseConn waited).
    if (outer && c->is_virtual) OnConnClosed(c);
    return;
  }
  // Keep the unparsed tail (a request still arriving) at the front of a slab.
  size_t rest = c->no_more ? 0 : c->len - pos;
  if (rest > 0 && rest >= slab->cap && c->need == 0 && !c->BodyFlowing()) {
    /* A head longer than a slab (maxHeaderBytes raised past 64 KiB), or a
     * chunked body whose size is not known yet: double, up to a bound that
     * covers a head, a maximal body and its chunk framing. */
    size_t bound = limits_.max_header_bytes + chunked_wire_limit(limits_.max_body) + 4096;
    c->need = std::min(slab->cap * 2, bound);
    if (rest >= bound) {
      c->no_more = true;  // cannot grow further: the request is too large
      rest = 0;
    }
  }
  // A request still arriving: the header or body timeout runs from its first byte.
  if (c->BodyFlowing()) {
    // A streamed body is a request still arriving: bodyTimeout runs from its head.
    c->partial_since = c->body.since;
    c->partial_head_done = true;
  } else if (rest == 0) {
    c->partial_since = 0;
  } else if (pos > 0 || c->partial_since == 0) {
    c->partial_since = uv_now(loop_);
  }
  /* Nothing in JS points into the slab any more (a request that outlives
   * its batch copied its bytes), so the tail can move to the front. */
  if (rest > 0 && c->need > slab->cap) {
    // The request being received needs a larger slab.
    Slab* s = pool_.Acquire(std::max(rest, c->need));
    if (!s) {
      CloseConn(c);
      return;
    }
    memcpy(s->data, base + pos, rest);
    pool_.Release(&c->slab);
    c->slab = s;
    c->len = rest;
  } else if (rest == 0) {
    c->len = 0;
  } else if (pos > 0) {
    memmove(slab->data, base + pos, rest);
    c->len = rest;
  }
  if (!c->js_paused) Park(c);  // paused: the unparsed requests wait in the slab
  UpdateReading(c);
  FinishIfClosing(c);
}

/* Requests of the last batch that are still pending copy their own bytes out
 * of the slab and the shared tables (JS: Dispatcher.detachPending). */
void Server::DetachPending(bool checkpoint_end) {
  if (!lazy_ && !checkpoint_end) return;
  lazy_ = false;
  if (shutting_down_) return;
  Napi::HandleScope scope(env_);
  napi_value arg = Napi::Boolean::New(env_, checkpoint_end);
  Invoke(detach_pending_, 1, &arg, false);
}

void Server::OnConnClosed(Conn* c) {
  ReleaseSlab(c);
  conns_.Remove(c->id);
  if (!c->is_virtual) open_handles_--;
  int id = c->id;
  delete c;
  CallJs(on_close_, id);
  MaybeClosed();
}

void Server::CloseConn(Conn* c) {
  if (c->closed) return;
  c->closed = true;
  if (c->is_virtual) {
    // Freed at once, unless a batch of it is running: then when Process returns.
    if (!c->in_process) OnConnClosed(c);
    return;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), [](uv_handle_t* h) {
    Conn* c = static_cast<Conn*>(h->data);
    c->server->OnConnClosed(c);
  });
}

}  // namespace salvo
