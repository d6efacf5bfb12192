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
import type { Output } from './output';
import { LOCK_NONE, LOCK_ON_SEND, Reply, type ReplySink } from './reply';
import type { Request } from './request';
import type { Streams } from './streaming';

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
      out.payload(res, res._body, route);
      void this.runOnSend(res, h, out.pStatus, out.pType, out.pBody);
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

  private async runOnSend(res: Reply, h: Hooks, status: number, type: string | null, body: string | Uint8Array | null): Promise<void> {
    let cur = body;
    // onSend hooks may still set headers and the status (not answer again).
    const status0 = res._status;
    const type0 = res._type;
    res._lock = LOCK_ON_SEND;
    try {
      for (const hook of h.onSend) {
        const r = await hook(res._req as Request, res, cur ?? '');
        if (typeof r === 'string' || r instanceof Uint8Array) cur = r;
      }
      res._lock = LOCK_NONE;
      if (res._status !== status0) status = res._status;
      if (res._type !== type0) type = res._type;
    } catch (err) {
      res._lock = LOCK_NONE;
      const r = new Reply();
      this.lifecycle.defaultError(r, err);
      const out = this.output;
      out.payload(r, r._body, res._route as Route);
      status = out.pStatus;
      type = out.pType;
      cur = out.pBody;
      res._headers = '';
    }
    this.finish(res, status, type, cur);
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
