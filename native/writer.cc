/* The write side of a connection: the batch's bytes go out with one
 * uv_try_write; what the kernel does not take is copied into one block of
 * our own and finished by libuv (the output arena is reused by the next
 * batch), reading pauses past the high-water mark (backpressure), and a
 * closing connection is shut down once its answers are out (lingering
 * close).  See docs/ARCHITECTURE.md, "The data path". */
#include <stdlib.h>
#include <string.h>

#include <algorithm>

#include "server.h"

namespace salvo {

namespace {

struct WriteReq {
  uv_write_t req;
  size_t len;
  char data[1];
};

inline uv_stream_t* stream(Conn* c) { return reinterpret_cast<uv_stream_t*>(&c->tcp); }

}  // namespace

void Server::Write(Conn* c, const uv_buf_t* bufs, unsigned n) {
  if (c->closed || c->shut) return;
  size_t total = 0;
  for (unsigned i = 0; i < n; i++) total += bufs[i].len;
  if (total == 0) return;
  stats.writes++;
  if (c->is_virtual) {
    Napi::HandleScope scope(env_);
    Napi::Buffer<char> copy = Napi::Buffer<char>::New(env_, total);
    size_t at = 0;
    for (unsigned i = 0; i < n; i++) {
      memcpy(copy.Data() + at, bufs[i].base, bufs[i].len);
      at += bufs[i].len;
    }
    napi_value args[2] = {Napi::Number::New(env_, c->id), copy};
    Invoke(on_virtual_write_, 2, args, false);
    return;
  }
  size_t done = 0;
  if (c->queued == 0) {
    int r = uv_try_write(stream(c), bufs, n);
    if (r >= 0) {
      done = static_cast<size_t>(r);
    } else if (r != UV_EAGAIN) {
      CloseConn(c);
      return;
    }
  }
  if (done == total) return;
  /* The kernel did not take it all: keep the rest in one block of our own
   * (the output arena is reused by the next batch) and let libuv finish. */
  size_t rem = total - done;
  WriteReq* w = static_cast<WriteReq*>(malloc(sizeof(WriteReq) + rem));
  w->len = rem;
  char* p = w->data;
  for (unsigned i = 0; i < n; i++) {
    size_t skip = std::min(done, bufs[i].len);
    done -= skip;
    memcpy(p, bufs[i].base + skip, bufs[i].len - skip);
    p += bufs[i].len - skip;
  }
  w->req.data = c;
  uv_buf_t b = uv_buf_init(w->data, static_cast<unsigned>(rem));
  if (c->queued == 0) c->send_since = uv_now(loop_);  // the send timeout runs from here
  c->queued += rem;
  uv_write(&w->req, stream(c), &b, 1, [](uv_write_t* req, int status) {
    WriteReq* w = reinterpret_cast<WriteReq*>(req);
    Conn* c = static_cast<Conn*>(req->data);
    c->queued -= w->len;
    free(w);
    Server* srv = c->server;
    if (status < 0) {
      srv->CloseConn(c);
      return;
    }
    c->last_active = uv_now(srv->loop());
    c->send_since = c->last_active;  // progress: the client takes our output
    // Resume reading once the client has drained half of the high-water mark.
    if (!c->closed && c->queued <= srv->limits().high_water / 2) {
      srv->UpdateReading(c);
      if (c->want_drain) {
        c->want_drain = false;
        srv->CallJs(srv->on_drain_, c->id);
      }
    }
    srv->FinishIfClosing(c);
  });
  // Backpressure: a client that does not read cannot make us buffer more.
  if (c->queued > limits_.high_water) UpdateReading(c);
}

void Server::FinishIfClosing(Conn* c) {
  // Inside Process the batch's answers are still to be written: it calls us after.
  if (!c->closing || c->shut || c->closed || c->inflight > 0 || c->in_process) return;
  c->shut = true;
  c->last_active = uv_now(loop_);
  c->shut_at = c->last_active;
  if (c->is_virtual) {
    CloseConn(c);
    return;
  }
  uv_shutdown_t* req = new uv_shutdown_t;
  req->data = c;
  /* The shutdown is queued behind pending writes; then we read until the
   * peer's FIN (dropping input) or the linger timeout, and close. */
  int r = uv_shutdown(req, stream(c), [](uv_shutdown_t* req, int) { delete req; });
  if (r != 0) {
    delete req;
    CloseConn(c);
    return;
  }
  UpdateReading(c);  // read until the peer's FIN (lingering close)
}

}  // namespace salvo
