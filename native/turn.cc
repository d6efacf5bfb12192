/* coalesceTurn: the batches of one event-loop turn, run together.
 *
 * By default every read is processed as it arrives (OnRead -> Process), each
 * batch in its own callback scope, so process.nextTick callbacks and
 * microtasks run after every connection's batch.  A client that batches its
 * work on process.nextTick (postgres.js sends the queries of one tick in one
 * write) then sends once per connection.  With coalesceTurn the reads of the
 * poll phase only queue their connection (QueueTurn); a check handle, which
 * libuv runs right after the poll phase, runs every queued batch (RunTurn)
 * inside one outer callback scope: the batches' own callback scopes are
 * nested, so closing them runs nothing, and the ticks and microtasks of all
 * of them run once, when the outer scope closes.  Answers that settle there
 * go into their connections' corks; the turn's flush (ConnQueues.flushAll,
 * an immediate: Node's immediate check handle runs after this one, which
 * libuv put ahead of it when it was started) writes each once.
 *
 * What waits for the pass keeps its bytes in its own slab (a read that
 * filled the slab is processed at once: libuv would read on into it); the
 * pass runs connections by id and skips one that closed or lost its slab
 * meanwhile; close() spares a queued connection like one whose request
 * waits unread in the kernel (Process ends it after the batch).  The check
 * handle is made by listen() and closed last (CloseTurnHandle), so no
 * queued batch is ever left without its pass. */
#include "server.h"

namespace salvo {

void Server::QueueTurn(Conn* c) {
  if (!c->in_turn) {
    c->in_turn = true;
    turn_.push_back(c->id);
  }
  if (!turn_started_) {
    turn_started_ = true;
    uv_check_start(&turn_check_, [](uv_check_t* h) { static_cast<Server*>(h->data)->RunTurn(); });
  }
}

void Server::RunTurn() {
  uv_check_stop(&turn_check_);
  turn_started_ = false;
  turn_run_.swap(turn_);  // the pass runs its own list; turn_ starts empty for the next turn
  if (shutting_down_) {
    for (int id : turn_run_) {
      Conn* c = conns_.Get(id);
      if (c) c->in_turn = false;
    }
    turn_run_.clear();
    return;
  }
  {
    Napi::HandleScope hs(env_);
    RawCallbackScope outer(env_, Value(), *async_);
    for (int id : turn_run_) {
      Conn* c = conns_.Get(id);
      if (!c || !c->in_turn) continue;  // gone, or processed already (a later read, resume)
      c->in_turn = false;
      if (c->closed || !c->slab) continue;
      Process(c);
    }
    turn_run_.clear();
  }  // the turn's ticks and microtasks run here
}

/* The last handle to close (MaybeClosed, once the listener, the timer and
 * every connection have): nothing can be queued then.  Returns true while
 * it is still closing; its close callback calls MaybeClosed again. */
bool Server::CloseTurnHandle() {
  if (turn_handle_ == TurnHandle::kNone || turn_handle_ == TurnHandle::kClosed) return false;
  if (turn_handle_ == TurnHandle::kOpen) {
    turn_handle_ = TurnHandle::kClosing;
    turn_started_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&turn_check_), [](uv_handle_t* h) {
      Server* srv = static_cast<Server*>(h->data);
      srv->turn_handle_ = TurnHandle::kClosed;
      srv->MaybeClosed();
    });
  }
  return true;
}

}  // namespace salvo
