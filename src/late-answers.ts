/**
 * @module late-answers
 * The sink of every reply that outlives its batch (`res._sink`): it is told
 * when such a reply is sent, streams a chunk, waits for the drain, aborts or
 * fails, and puts the answer's bytes in order on its connection: serialized
 * with the same code as a sync answer (src/output.ts) into the cork when the
 * reply heads its queue, else into the reply, then `ConnQueues.advance`.
 * Also runs onSend hooks for late answers and onResponse hooks for all.
 */
import type { ConnQueues } from './conn-queue';
import { isThenable, type Hooks, type Lifecycle, type Route } from './lifecycle';
import { GATE_NONE, GATE_WRITE, type Output } from './output';
import { LOCK_NONE, LOCK_ON_SEND, Reply, type ReplySink } from './reply';
import type { Request } from './request';
import type { Streams } from './streaming';

/** Where onSend hooks stopped: hook `at` returned `thenable`; the payload so far and the status and type before the hooks. */
/** onSendNow's answer when the hooks were skipped: Output.respondShaped writes the reply. */
export const SHAPED = 1;

export interface OnSendPending {
  at: number;
  thenable: PromiseLike<unknown>;
  status: number;
  type: string | null;
  cur: string | Uint8Array | null;
  status0: number;
  type0: string | null;
}

export class LateAnswers implements ReplySink {
  /** Set once the streams exist (they report the end of a stream back here). */
  streams: Streams | null = null;

  constructor(
    private readonly queues: ConnQueues,
    private readonly output: Output,
    private readonly lifecycle: Lifecycle,
  ) {}

  /** @internal A pending reply was sent (or started streaming). */
  sent(res: Reply): void {
    const cs = res._cs;
    if (cs === null) return;
    if (!cs.alive) {
      res._done = true;
      (this.streams as Streams).start(res); // releases writers waiting for the head
      return;
    }
    if (res._streaming) {
      (this.streams as Streams).start(res);
      return;
    }
    const route = res._route as Route;
    const h = route.hooks;
    const out = this.output;
    if (h !== null && h.onSend.length) {
      const pending = this.onSendNow(res, h) as OnSendPending | null; // not gated: never SHAPED
      if (pending === null) this.finish(res, out.pStatus, out.pType, out.pBody);
      else void this.onSendLater(res, h, pending);
      return;
    }
    // The same serialization as a sync answer (with its cache of constant answers).
    const req = res._req as Request;
    out.toConn(cs, res);
    out.respond(req, res, res._body, route, res._keep);
    res._done = true;
    this.queues.advance(cs);
    if (h !== null && h.onResponse.length) this.afterResponse(req, res, route);
  }

  /**
   * Runs a decided answer's onSend hooks in order, synchronously while they
   * return no thenable (the common case: cors, compress below its threshold,
   * header hooks), so an answer decided in its batch leaves with the batch.
   * null: all ran, the answer is in the output's pStatus / pType / pBody.
   * Else the state to go on from once the hook's thenable settles
   * (`onSendLater`); the reply stays locked for onSend until then.
   */
  onSendNow(res: Reply, h: Hooks, gated = false): OnSendPending | null | typeof SHAPED {
    const out = this.output;
    // A JSON answer below every hook's gate is written by its byte writer, without the hooks (Output.gate).
    const g = gated && h.sendGate > 0 ? out.gate(res._req as Request, res, res._body, res._route as Route, h.sendGate) : GATE_NONE;
    if (g === GATE_WRITE) return SHAPED;
    if (g === GATE_NONE) out.payload(res, res._body, res._route as Route);
    let status = out.pStatus;
    let type = out.pType;
    let cur = out.pBody;
    // onSend hooks may still set headers and the status (not answer again).
    const status0 = res._status;
    const type0 = res._type;
    res._lock = LOCK_ON_SEND;
    const list = h.onSend;
    try {
      for (let i = 0; i < list.length; i++) {
        const r = list[i](res._req as Request, res, cur ?? '');
        if (isThenable(r)) return { at: i, thenable: r, status, type, cur, status0, type0 };
        if (typeof r === 'string' || r instanceof Uint8Array) cur = r;
      }
      res._lock = LOCK_NONE;
      if (res._status !== status0) status = res._status;
      if (res._type !== type0) type = res._type;
    } catch (err) {
      this.onSendFailed(res, err);
      return null;
    }
    out.pStatus = status;
    out.pType = type;
    out.pBody = cur;
    return null;
  }

  /** The rest of the onSend hooks once one returned a thenable; then the answer is finished. */
  async onSendLater(res: Reply, h: Hooks, p: OnSendPending): Promise<void> {
    let { status, type, cur } = p;
    const list = h.onSend;
    try {
      const first = await p.thenable;
      if (typeof first === 'string' || first instanceof Uint8Array) cur = first;
      for (let i = p.at + 1; i < list.length; i++) {
        const r = await list[i](res._req as Request, res, cur ?? '');
        if (typeof r === 'string' || r instanceof Uint8Array) cur = r;
      }
      res._lock = LOCK_NONE;
      if (res._status !== p.status0) status = res._status;
      if (res._type !== p.type0) type = res._type;
    } catch (err) {
      this.onSendFailed(res, err);
      const out = this.output;
      status = out.pStatus;
      type = out.pType;
      cur = out.pBody;
    }
    this.finish(res, status, type, cur);
  }

  /** An onSend hook threw: the default error answer instead (in the output's pStatus / pType / pBody), without the reply's headers. */
  private onSendFailed(res: Reply, err: unknown): void {
    res._lock = LOCK_NONE;
    const r = new Reply();
    this.lifecycle.defaultError(r, err);
    this.output.payload(r, r._body, res._route as Route);
    res._headers = '';
  }

  /** Serializes a late answer into its slot, and moves what is ready into the cork. */
  private finish(res: Reply, status: number, type: string | null, payload: string | Uint8Array | null): void {
    const cs = res._cs;
    if (cs === null || !cs.alive) {
      res._done = true;
      return;
    }
    const req = res._req as Request;
    const out = this.output;
    out.toConn(cs, res);
    res._bytes = out.write(req, status, type, payload, res._headers, out.connMode(req, res._keep));
    res._done = true;
    this.queues.advance(cs);
    const h = (res._route as Route).hooks;
    if (h !== null && h.onResponse.length) this.afterResponse(req, res, res._route as Route);
  }

  /** @internal */
  write(res: Reply, chunk: Uint8Array, end: boolean): boolean {
    return (this.streams as Streams).chunk(res, chunk, end);
  }

  /** @internal */
  drained(res: Reply): Promise<void> {
    return (this.streams as Streams).drained(res);
  }

  /** @internal */
  abort(res: Reply): void {
    (this.streams as Streams).abort(res);
  }

  /** @internal */
  error(res: Reply, err: unknown): void {
    const req = res._req;
    const route = res._route;
    if (req === null || route === null) return;
    void this.lifecycle.failAsync(req, res, route, err);
  }

  afterResponse(req: Request, res: Reply, route: Route): void {
    const list = (route.hooks as Hooks).onResponse;
    queueMicrotask(() => {
      for (const hook of list) {
        try {
          const r = hook(req, res);
          if (isThenable(r)) Promise.resolve(r).catch(() => {});
        } catch {
          // onResponse cannot change anything any more
        }
      }
    });
  }

}
