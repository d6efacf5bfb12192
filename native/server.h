/* A listening socket and its connections, on Node's own libuv loop.
 *
 * JS owns one Server per App.listen(); the callbacks are
 *   dispatch(connId, count, slabView)   one call per read batch
 *   onClose(connId)                     a connection is gone
 *   onPeerEnd(connId)                   the client sent FIN with answers owed
 *   onDrain(connId)                     unsent output fell below half the mark
 *   detachPending()                     the last batch's pending requests copy their bytes
 *   body(connId, slab, off, len, event) a streamed request body's bytes (layout.h
 *                                       BodyEvent); returns false to pause (resumeBody)
 *   onClosed()                          listener and every connection closed
 * and the shared tables are properties: rows, headers (Int32Array), out
 * (Uint8Array, the output arena), ctl (Int32Array control words).
 */
#ifndef SALVO_SERVER_H
#define SALVO_SERVER_H

#include <napi.h>
#include <uv.h>

#include <vector>

#include "arena.h"
#include "napi_backing.h"
#include "framing.h"
#include "parser.h"
#include "routes.h"

namespace salvo {

class Server;

/* The body of a request on a bodyStream route while it arrives: it is handed
 * to JS read by read (Server::DeliverBody), never buffered whole.  At most
 * one per connection: nothing after it is parsed until it has ended. */
struct BodyStream {
  bool active = false;
  bool chunked = false;
  bool close_after = false;  // its head said close: parse nothing after the body
  uint64_t left = 0;         // Content-Length bytes still to come
  size_t limit = 0;          // the route's bodyLimit, in decoded bytes (413 past it)
  uint64_t since = 0;        // its head's arrival: bodyTimeout runs from there
  ChunkScan scan;            // where the chunked decode resumes
};

struct Conn {
  uv_tcp_t tcp;
  Server* server;
  int id;
  Slab* slab = nullptr;  // holds bytes [0, len) not yet consumed
  size_t len = 0;
  /* A short unfinished request parked off-slab between reads (at most
   * kParkMax bytes), so an idle partial head costs its own size, not 64 KiB. */
  char* parked = nullptr;
  size_t parked_len = 0;
  size_t queued = 0;     // bytes handed to uv_write, not yet written
  bool no_more = false;  // a request ended the connection: parse nothing further
  bool closing = false;  // close once queued output is flushed
  bool got_bytes = false;  // a read brought bytes (close() spares a connection whose request has not arrived)
  bool shut = false;     // shutdown issued
  bool closed = false;   // uv_close issued
  bool reading = true;
  bool want_drain = false;  // JS waits for the output to drain (streaming, deferred answers)
  bool is_virtual = false;  // inject(): no socket, writes go to JS
  bool in_process = false;  // inside Process(): neither shut down nor freed until it returns
  int inflight = 0;       // requests handed to JS and not answered yet
  size_t need = 0;        // bytes the request being received needs in one slab
  bool js_paused = false;  // JS has too many pending or deferred answers on it
  bool continue_sent = false;  // 100 Continue sent for the request being received
  uint64_t last_active = 0;    // last read or completed write (keep-alive timeout)
  uint64_t partial_since = 0;  // first byte of an unfinished request (0: none)
  uint64_t shut_at = 0;        // when the write side was shut down (linger bound)
  uint64_t send_since = 0;     // since when output has been waiting without progress
  size_t last_wq = 0;          // libuv's write queue size at the last sweep (progress check)
  bool partial_head_done = false;  // ... whose head is complete (body timeout applies)
  ChunkScan chunk;  // chunked body of the request being received: where the scan resumes
  BodyStream body;  // a streamed body being received
  bool body_paused = false;  // its JS consumer is behind: not read until resumeBody
  bool in_turn = false;  // coalesceTurn: its read waits for the turn's pass (turn.cc)
  // A streamed body is still to be handed to JS (not abandoned by an early close).
  bool BodyFlowing() const { return body.active && !no_more; }
};

/* napi_open_callback_scope / napi_close_callback_scope as a stack object.  Raw:
 * a failure to open (the environment ending) is not fatal.  Closing the
 * outermost one runs process.nextTick callbacks and microtasks. */
struct RawCallbackScope {
  napi_env env;
  napi_callback_scope scope = nullptr;
  RawCallbackScope(napi_env e, napi_value resource, napi_async_context ctx) : env(e) {
    if (napi_open_callback_scope(e, resource, ctx, &scope) != napi_ok) scope = nullptr;
  }
  ~RawCallbackScope() { Close(); }
  RawCallbackScope(const RawCallbackScope&) = delete;
  RawCallbackScope& operator=(const RawCallbackScope&) = delete;
  void Close() {
    if (scope) napi_close_callback_scope(env, scope);
    scope = nullptr;
  }
};

class Server : public Napi::ObjectWrap<Server> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Server(const Napi::CallbackInfo& info);
  ~Server() override;

  // connection.cc
  void OnRead(Conn* c, ssize_t nread);
  void Process(Conn* c);
  void Write(Conn* c, const uv_buf_t* bufs, unsigned n);
  void FinishIfClosing(Conn* c);
  void CloseConn(Conn* c);
  void ReleaseSlab(Conn* c);
  void Park(Conn* c);
  void DetachPending(bool checkpoint_end = false);
  [[gnu::always_inline]] inline int RouteRow(const RequestHead& head, const char* base, int32_t* row);
  int NextStreamed(char* buf, size_t len, const char* base, int32_t* row, Message* m);
  void StartBody(Conn* c, const Message& m, double limit, bool first, size_t pos);
  void DeliverBody(Conn* c, size_t* pos);
  bool CallBody(Conn* c, size_t off, size_t len, int event, bool scope);
  bool HasWaitingBytes(Conn* c);  // the kernel holds unread bytes for it (close() spares it)
  void ResumeRead(Conn* c);
  // turn.cc (coalesceTurn)
  void QueueTurn(Conn* c);
  void RunTurn();
  bool CloseTurnHandle();
  const Limits& limits() const { return limits_; }

  uv_loop_t* loop() const { return loop_; }
  SlabPool& pool() { return pool_; }

  struct Stats {
    double reads = 0, writes = 0, batches = 0, requests = 0, accepted = 0;
  } stats;

 private:
  friend struct ServerCallbacks;
  Napi::Value Listen(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value WriteJs(const Napi::CallbackInfo& info);
  Napi::Value End(const Napi::CallbackInfo& info);
  Napi::Value Resume(const Napi::CallbackInfo& info);
  Napi::Value ResumeBody(const Napi::CallbackInfo& info);
  Napi::Value WatchDrain(const Napi::CallbackInfo& info);
  Napi::Value AddRoute(const Napi::CallbackInfo& info);
  Napi::Value GetStats(const Napi::CallbackInfo& info);
  Napi::Value RemoteAddress(const Napi::CallbackInfo& info);
  Napi::Value Inject(const Napi::CallbackInfo& info);
  Napi::Value InjectRun(const Napi::CallbackInfo& info);
  Conn* NewConn();
  void AcceptBacklog(std::vector<Conn*>* out);
  void OnConnClosed(Conn* c);
  void CallJs(Napi::FunctionReference& fn, int id);
  bool Invoke(Napi::FunctionReference& fn, size_t argc, const napi_value* argv, bool scope,
              napi_value* result = nullptr);
  void Sweep();
  void UpdateReading(Conn* c);

  void OnConnection(int status);
  void MaybeClosed();
  void CloseAll();
  static void OnAsyncCleanup(napi_async_cleanup_hook_handle handle, void* arg);

  Napi::Env env_;
  uv_loop_t* loop_ = nullptr;
  ParserImpl impl_;
  Limits limits_;
  uv_tcp_t listener_;
  uv_timer_t timer_;
  /* coalesceTurn: the connections read in this turn's poll phase, by id, in
   * read order; turn_check_ (a check handle, after the poll phase) runs them
   * in one callback scope.  turn_run_ is the list being run (no allocation
   * per turn once both have grown). */
  bool coalesce_turn_ = false;
  enum class TurnHandle { kNone, kOpen, kClosing, kClosed } turn_handle_ = TurnHandle::kNone;
  uv_check_t turn_check_;
  bool turn_started_ = false;
  std::vector<int> turn_, turn_run_;
  bool listening_ = false;
  bool closing_ = false;
  bool shutting_down_ = false;  // the environment is being torn down
  int open_handles_ = 0;
  napi_async_cleanup_hook_handle cleanup_ = nullptr;

  IdTable<Conn> conns_;
  NapiBacking backing_;  // before pool_: the pool frees through it
  SlabPool pool_;
  /* Where a connection with nothing pending reads (libuv calls alloc then
   * read for one stream at a time): handed to it only when bytes arrive. */
  Slab* landing_ = nullptr;
  Routes routes_;

  Napi::FunctionReference dispatch_, on_close_, on_closed_, on_drain_, on_peer_end_, on_virtual_write_,
      detach_pending_, body_;
  /* Per route id: its bodyLimit when its body is streamed (bodyStream), else
   * -1; any_stream_: some route is, so heads are framed before bodies. */
  std::vector<double> stream_limit_;
  bool any_stream_ = false;
  double stream_limit_next_ = -1;  // NextStreamed's verdict on the message it framed
  bool lazy_ = false;  // the last batch left requests that still view its slab and tables
  Napi::Reference<Napi::Int32Array> rows_ref_, hdrs_ref_, ctl_ref_;
  Napi::Reference<Napi::Uint8Array> out_ref_;
  Napi::AsyncContext* async_ = nullptr;
  int32_t* rows_;
  int32_t* hdrs_;
  int32_t* ctl_;
  uint8_t* out_;
  size_t out_cap_;
  HeaderField* fields_;  // scratch for the parser, max_headers entries
};

}  // namespace salvo

#endif
