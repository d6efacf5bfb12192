/**
 * @module conn-queue
 * Per connection: the ordered queue of answers still owed, and the cork.
 *
 * Ordering (invariant 1): answers leave in request order.  A reply whose
 * answer is not ready when its batch ends waits in its connection's queue;
 * replies behind it keep their bytes (`_chunks`) until it is done; `advance`
 * moves everything ready at the head into the cork.
 *
 * Corking (the rule uWebSockets writes down, applied to async work): all
 * bytes produced for one connection during one event-loop turn leave in one
 * write, in request order.  The sync part of a batch leaves with the addon's
 * write right after dispatch (the output arena); a batch that leaves answers
 * owed keeps those bytes in the arena as its connection's cork
 * (`adoptArena`), and what settles in its checkpoint joins them, handed back
 * to the addon for one write after it (`handBack`, or `handBackEarly` once
 * the batch is done inside it); everything else (answers
 * settling in the microtasks after a batch, in a later I/O callback, a timer
 * or an immediate, stream chunks) goes into the connection's cork, and one
 * flush per turn writes every dirty cork, one write per connection.  The
 * flush is an immediate, re-queued behind the immediates a batch's handlers
 * scheduled, so answers that settle in those (setImmediate-based handlers)
 * still leave in the same turn.  Chunks of at least 64 KiB are not copied
 * into the cork: they leave at once, by reference, behind the cork's bytes.
 *
 * Memory: corks come from a small pool of 16 KiB buffers and go back to it
 * after each flush, so an idle connection holds none.
 */
import { CTL_ANSWERED, CTL_CLOSE, CTL_HANDED, CTL_OUT_LEN, CTL_QUEUED } from './layout';
import type { NativeServer } from './native';
import type { Output } from './output';
import type { Reply } from './reply';

/** Reasons a connection's reading is paused (ConnState.pause bits). */
export const PAUSE_PENDING = 1; // more than maxPendingResponses answers owed
export const PAUSE_DEFER = 2; // the rest of a batch was deferred past the high-water mark

const CORK_SIZE = 16 * 1024;
const MAX_FREE_CORKS = 64;
const LARGE = 64 * 1024;

export class ConnState {
  alive = true;
  /**
   * Replies owed, in request order; [head, tail) are live.  The array keeps
   * its room when it empties (no length changes on the hot path); the slots
   * a reply leaves are cleared, so nothing answered stays reachable.
   */
  readonly queue: (Reply | null)[] = [];
  head = 0;
  tail = 0;
  /** Bytes ready to leave with this turn's write, in order. */
  cork: Buffer | null = null;
  corkLen = 0;
  /** The cork is the output arena (its batch left answers owed; see ConnQueues.adoptArena). */
  corkArena = false;
  /** Bytes waiting in replies behind the head. */
  held = 0;
  /** Owed answers whose bytes are in the cork (reported with the write). */
  answered = 0;
  /** The connection ends after the cork. */
  endAfter = false;
  /** The addon's unsent bytes for it, as of the last write. */
  queued = 0;
  dirty = false;
  drainWaiters: (() => void)[] = [];
  /** PAUSE_* bits. */
  pause = 0;
  /** Deferred replies not yet run (they sit in the queue, in order). */
  deferred = 0;
  constructor(readonly id: number) {}

  /** Nothing queued and nothing corked: a batch may write straight to the arena. */
  get idle(): boolean {
    return this.head === this.tail && this.corkLen === 0;
  }

  get owed(): number {
    return this.tail - this.head;
  }
}

export class ConnQueues {
  private readonly conns: (ConnState | undefined)[] = [];
  private dirty: ConnState[] = [];
  private readonly freeCorks: Buffer[] = [];
  private immediate: NodeJS.Immediate | null = null;
  /**
   * The connection whose batch's microtask checkpoint is running (-1: none):
   * what its answers put in its cork leaves at the checkpoint's end
   * (`endCheckpoint`), not with the turn's flush.
   */
  checkpoint = -1;
  /** Set by the dispatcher: the arena, flushed before a batch's connection writes mid-batch. */
  output: Output | null = null;
  /** Called after each flush of a connection (deferred work, drain waiters). */
  afterFlush: (cs: ConnState) => void = () => {};

  /**
   * coalesceTurn: the batches of a turn run back to back in one callback
   * scope (native/turn.cc), so nothing settles in a batch's own checkpoint
   * and the next batch reuses the arena: endCheckpoint moves the arena cork
   * into the connection's own and the turn's flush writes it, one write per
   * connection for the turn.
   */
  constructor(private readonly native: NativeServer, private readonly highWaterMark: number, private readonly coalesceTurn = false) {}

  get(id: number): ConnState | undefined {
    return this.conns[id];
  }

  ensure(id: number): ConnState {
    return this.conns[id] ?? this.create(id);
  }

  private create(id: number): ConnState {
    const cs = new ConnState(id);
    this.conns[id] = cs;
    return cs;
  }

  /** Every connection with state (for the request-timeout sweep). */
  all(): readonly (ConnState | undefined)[] {
    return this.conns;
  }

  /** The connection is gone: forget it (its replies answer into nothing). */
  remove(id: number): ConnState | undefined {
    const cs = this.conns[id];
    if (cs === undefined) return undefined;
    if (this.checkpoint === id) this.checkpoint = -1;
    this.conns[id] = undefined;
    cs.alive = false;
    this.releaseCork(cs);
    return cs;
  }

  /** Small (the queue keeps its room; a store at its end grows it): inlined at little of the caller's budget. */
  enqueue(cs: ConnState, reply: Reply): void {
    reply._cs = cs;
    cs.queue[cs.tail++] = reply;
  }

  /** Bytes of a reply behind the head: they wait in it. */
  hold(cs: ConnState, reply: Reply, bytes: Uint8Array): void {
    (reply._chunks ??= []).push(bytes);
    cs.held += bytes.length;
  }

  /** Room for `n` more bytes in the cork. */
  ensureCork(cs: ConnState, n: number): void {
    const need = cs.corkLen + n;
    const c = cs.cork;
    if (c !== null && need <= c.length) return;
    const size = Math.max(CORK_SIZE, need, c === null || cs.corkArena ? 0 : 2 * c.length);
    const next = size === CORK_SIZE && this.freeCorks.length > 0 ? (this.freeCorks.pop() as Buffer) : Buffer.allocUnsafeSlow(size);
    if (c !== null) {
      c.copy(next, 0, 0, cs.corkLen);
      if (cs.corkArena) cs.corkArena = false; // the arena is the server's, never pooled
      else this.giveBack(c);
    }
    cs.cork = next;
  }

  /**
   * The batch of `id` left answers owed: its own bytes, out[0, len) of the
   * arena, become the connection's cork instead of leaving before the
   * checkpoint, so the answers that settle in it are serialized right behind
   * them and the addon sends both with one write after it (endCheckpoint
   * hands the length back).  Not when the cork already holds bytes (they
   * came after the arena's: the addon writes the arena first, as before).
   * True when the arena is the cork (the caller reports no arena bytes).
   */
  adoptArena(id: number, arena: Buffer, len: number): boolean {
    const cs = this.conns[id];
    if (cs === undefined) return false;
    if (cs.corkArena) return true; // an earlier part of the same read adopted it
    if (cs.cork !== null) return false;
    cs.cork = arena;
    cs.corkLen = len;
    cs.corkArena = true;
    return true;
  }

  /** The arena is needed for other bytes (or past this turn): an adopted cork's bytes move to a cork of their own. */
  private evacuate(cs: ConnState): void {
    if (!cs.corkArena) return;
    const arena = cs.cork as Buffer;
    const n = cs.corkLen;
    cs.cork = null;
    cs.corkLen = 0;
    cs.corkArena = false;
    if (n === 0) return;
    this.ensureCork(cs, n);
    arena.copy(cs.cork as unknown as Buffer, 0, 0, n);
    cs.corkLen = n;
  }

  /** Ready bytes at the end of the cork; a large chunk leaves now, behind it. */
  append(cs: ConnState, bytes: Uint8Array): void {
    if (bytes.length >= LARGE) {
      this.sendNow(cs, bytes);
      return;
    }
    if (bytes.length === 0) return;
    this.ensureCork(cs, bytes.length);
    (cs.cork as Buffer).set(bytes, cs.corkLen);
    cs.corkLen += bytes.length;
  }

  /** Moves what is ready at the head of the queue into the cork. */
  advance(cs: ConnState): void {
    const q = cs.queue;
    while (cs.head < cs.tail) {
      const r = q[cs.head] as Reply;
      const chunks = r._chunks;
      if (chunks !== null) {
        r._chunks = null;
        for (const c of chunks) {
          cs.held -= c.length;
          this.append(cs, c);
        }
      }
      if (!r._done) break;
      if (r._owed) {
        r._owed = false;
        cs.answered++;
      }
      if (r._close) cs.endAfter = true;
      r._cs = null;
      q[cs.head++] = null;
    }
    if (cs.head === cs.tail) cs.head = cs.tail = 0;
    this.markDirty(cs);
  }

  markDirty(cs: ConnState): void {
    if (cs.dirty) return;
    cs.dirty = true;
    if (cs.id === this.checkpoint) return; // endCheckpoint writes it
    this.schedule(cs);
  }

  private schedule(cs: ConnState): void {
    this.dirty.push(cs);
    if (this.immediate === null) this.immediate = setImmediate(this.flushAll);
  }

  /**
   * The batch's microtask checkpoint is over (the addon says so through
   * detachPending): what the answers settled in it put in the cork leaves
   * now, in one write, right behind the batch's own.  A connection with
   * deferred or paused work, whose write is followed by running that work
   * (afterFlush: handlers, resuming the read), waits for the turn's flush
   * instead: the addon is still inside the batch.  So does every connection
   * with coalesceTurn (the constructor says why).
   */
  endCheckpoint(): void {
    const id = this.checkpoint;
    if (id < 0) return;
    this.checkpoint = -1;
    const cs = this.conns[id];
    if (cs === undefined || (!cs.dirty && !cs.corkArena)) return;
    if (this.coalesceTurn || cs.pause !== 0 || cs.deferred !== 0 || cs.drainWaiters.length !== 0) {
      this.evacuate(cs);
      this.toFlush(cs);
      return;
    }
    cs.dirty = false;
    if (cs.corkArena) this.handBack(cs);
    else this.flush(cs);
  }

  /**
   * The arena cork leaves with the addon's write right after the checkpoint
   * (native/connection.cc Process reads CTL_OUT_LEN, CTL_ANSWERED and
   * CTL_CLOSE once detachPending returns): no write call from here.
   */
  private handBack(cs: ConnState): void {
    const ctl = this.native.ctl;
    ctl[CTL_OUT_LEN] = cs.corkLen;
    ctl[CTL_ANSWERED] = cs.answered;
    ctl[CTL_CLOSE] = cs.endAfter ? 1 : 0;
    // An upper bound of the addon's unsent bytes until its next report (the bound errs on the safe side).
    cs.queued = ctl[CTL_QUEUED] + cs.corkLen;
    cs.answered = 0;
    cs.endAfter = false;
    cs.cork = null;
    cs.corkLen = 0;
    cs.corkArena = false;
  }

  /**
   * Whether the checkpoint's connection can hand its output back now, before
   * the checkpoint ends: nothing owed any more, its cork is the arena, and
   * no deferred or paused work or drain waiter wants the turn's flush.
   */
  canHandBack(id: number): boolean {
    const cs = this.conns[id];
    return cs !== undefined && cs.corkArena && cs.head === cs.tail && cs.pause === 0 && cs.deferred === 0 && cs.drainWaiters.length === 0;
  }

  /** What was handed back early, until the addon takes it (or a nested batch needs the arena: sendHanded). */
  private handed = -1;
  private handedLen = 0;
  private handedAnswered = 0;
  private handedClose = false;

  /** endCheckpoint now, inside the checkpoint (canHandBack said yes): the addon writes after it, without a detachPending call. */
  handBackEarly(): void {
    const id = this.checkpoint;
    const cs = this.conns[id] as ConnState;
    this.checkpoint = -1;
    cs.dirty = false;
    const ctl = this.native.ctl;
    this.handedAnswered = cs.answered;
    this.handedClose = cs.endAfter;
    this.handBack(cs);
    this.handed = id;
    this.handedLen = ctl[CTL_OUT_LEN];
    ctl[CTL_HANDED] = id + 1;
  }

  /**
   * A batch starts while bytes handed back early still wait in the arena (a
   * batch of another connection run inside the checkpoint): they leave now,
   * before the arena is reused, and the addon is told not to write them.
   */
  sendHanded(): void {
    const ctl = this.native.ctl;
    const id = this.handed;
    this.handed = -1;
    if (ctl[CTL_HANDED] !== id + 1) return; // the addon took them already
    ctl[CTL_HANDED] = 0;
    const out = (this.output as Output).out;
    this.native.write(id, out, this.handedLen, undefined, this.handedAnswered);
    if (this.handedClose) this.native.end(id);
  }

  /** Whether bytes handed back early may still wait in the arena. */
  get handedPending(): boolean {
    return this.handed >= 0;
  }

  /** Another batch starts inside the checkpoint: its connection's answers wait for the turn's flush. */
  leaveCheckpoint(): void {
    const cs = this.conns[this.checkpoint];
    this.checkpoint = -1;
    if (cs === undefined) return;
    const adopted = cs.corkArena;
    this.evacuate(cs); // the other batch writes the arena
    if (cs.dirty || adopted) this.toFlush(cs);
  }

  /** Written by the turn's flush (already dirty or not). */
  private toFlush(cs: ConnState): void {
    cs.dirty = true;
    this.schedule(cs);
  }

  /**
   * Requests of a batch are still pending (their handlers may have queued
   * immediates): a flush already scheduled moves behind those, so what they
   * answer leaves in this turn too.  (None scheduled: the next markDirty
   * queues one, behind them already.)
   */
  requeueFlush(): void {
    if (this.immediate === null) return;
    clearImmediate(this.immediate);
    this.immediate = setImmediate(this.flushAll);
  }

  /** The end of the turn: one write per dirty connection. */
  readonly flushAll = (): void => {
    this.immediate = null;
    const list = this.dirty;
    this.dirty = [];
    let n = 0;
    for (const cs of list) {
      if (!cs.dirty) continue; // written at its checkpoint's end since
      cs.dirty = false;
      this.flush(cs);
      list[n++] = cs;
    }
    list.length = n;
    for (const cs of list) this.afterFlush(cs);
  };

  private flush(cs: ConnState): void {
    if (!cs.alive) {
      this.releaseCork(cs);
      return;
    }
    if (cs.corkLen > 0 || cs.answered > 0) {
      cs.queued = this.native.write(cs.id, cs.cork ?? EMPTY, cs.corkLen, undefined, cs.answered);
      cs.answered = 0;
    }
    this.releaseCork(cs);
    this.settleDrain(cs, cs.queued);
    if (cs.endAfter) {
      cs.endAfter = false;
      this.native.end(cs.id);
    }
  }

  /**
   * Writes the cork and then `extra` now (a large chunk, by reference).  On
   * the batch's own connection, the arena's bytes go first: they are older.
   */
  private sendNow(cs: ConnState, extra: Uint8Array): void {
    if (!cs.alive) return;
    const out = this.output;
    if (out !== null && out.batchConn === cs.id) out.flushArena();
    cs.queued = this.native.write(cs.id, cs.cork ?? EMPTY, cs.corkLen, extra, 0);
    cs.corkLen = 0;
  }

  private releaseCork(cs: ConnState): void {
    if (cs.cork !== null && !cs.corkArena) this.giveBack(cs.cork);
    cs.cork = null;
    cs.corkLen = 0;
    cs.corkArena = false;
  }

  private giveBack(b: Buffer): void {
    if (b.length === CORK_SIZE && this.freeCorks.length < MAX_FREE_CORKS) this.freeCorks.push(b);
  }

  /** Unsent bytes of a connection: the addon's, its cork's and its queue's. */
  unsent(cs: ConnState): number {
    return cs.queued + cs.corkLen + cs.held;
  }

  /** Resolves once the connection's output is below half the high-water mark. */
  drained(cs: ConnState): Promise<void> {
    if (!cs.alive || (cs.corkLen === 0 && cs.queued <= this.highWaterMark / 2)) return Promise.resolve();
    return new Promise((resolve) => {
      cs.drainWaiters.push(resolve);
      this.markDirty(cs); // the flush checks the addon's queue and watches it
    });
  }

  /** After a write: resolve drain waiters, or ask the addon to say when. */
  settleDrain(cs: ConnState, queued: number): void {
    if (cs.drainWaiters.length === 0) return;
    if (!cs.alive || queued <= this.highWaterMark / 2) {
      const ws = cs.drainWaiters;
      cs.drainWaiters = [];
      for (const w of ws) w();
      return;
    }
    this.native.watchDrain(cs.id);
  }
}

const EMPTY = Buffer.alloc(0);
