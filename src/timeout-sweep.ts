/**
 * @module timeout-sweep
 * The request-timeout sweep of one server: one timer, ticking at a quarter
 * of the shortest route timeout (10 ms to 1 s); each route's timeout becomes
 * a tick count (`Route.timeoutTicks`), compared with the tick a reply went
 * pending at (`Reply._since`, from `tick`), so a pending request records one
 * number.  Requests not answered within their timeout get a 503, their
 * signal aborts (the reason: the SALVO_ERR_HANDLER_TIMEOUT error), and
 * whatever the handler answers later is dropped (the reply is locked).
 */
import type { ConnQueues, ConnState } from './conn-queue';
import { SalvoError } from './errors';
import type { Lifecycle, Route } from './lifecycle';
import { TIMED_OUT, type Reply, type ReplySink } from './reply';

export class TimeoutSweep {
  /** The current tick (a reply going pending records it). */
  tick = 0;
  private readonly timer: NodeJS.Timeout | null = null;

  /**
   * @param routes every route, the 404 and 405 ones included; `timeoutTicks` is set on each
   * @param appTimeout the app's requestTimeout in ms (a route's `timeout` of -1 means it; 0: none)
   * @param timedOut runs after a connection's timed-out requests were answered (deferred work may go on)
   */
  constructor(
    routes: Route[],
    appTimeout: number,
    private readonly queues: ConnQueues,
    private readonly lifecycle: Lifecycle,
    private readonly sink: ReplySink,
    private readonly timedOut: (cs: ConnState) => void,
  ) {
    const msOf = (r: Route) => (r.timeout >= 0 ? r.timeout : appTimeout);
    let shortest = 0;
    for (const r of routes) {
      const ms = msOf(r);
      if (ms > 0 && (shortest === 0 || ms < shortest)) shortest = ms;
    }
    const period = Math.max(10, Math.min(1000, Math.floor(shortest / 4)));
    for (const r of routes) {
      const ms = msOf(r);
      r.timeoutTicks = ms > 0 ? Math.ceil(ms / period) : 0;
    }
    if (shortest > 0) {
      this.timer = setInterval(() => this.sweep(), period);
      this.timer.unref();
    }
  }

  /** The server closed: no more sweeps. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
  }

  /**
   * A reply times out more than `timeoutTicks` whole ticks after the tick it
   * went pending in: never before its timeout, at most a tick (a quarter) after it.
   */
  private sweep(): void {
    const tick = ++this.tick;
    for (const cs of this.queues.all()) {
      if (cs === undefined || cs.owed === 0) continue;
      for (let i = cs.head; i < cs.tail; i++) {
        const r = cs.queue[i] as Reply;
        if (r._done || !r._owed || r._since === TIMED_OUT) continue;
        const limit = (r._route as Route).timeoutTicks;
        if (limit === 0 || tick - r._since <= limit) continue;
        const err = new SalvoError('SALVO_ERR_HANDLER_TIMEOUT');
        const req = r._req;
        if (req !== null) {
          const ac = (req._abort ??= new AbortController());
          if (!ac.signal.aborted) ac.abort(err);
        }
        if (r._deferred) {
          r._deferred = false;
          cs.deferred--;
        }
        r._sink = this.sink;
        if (!r._sent) this.lifecycle.defaultError(r, err);
        else if (r._streaming) r._abortStream();
        // After salvo's answer: the handler's own answer, whenever it comes, is dropped (src/reply.ts).
        r._since = TIMED_OUT;
      }
      this.timedOut(cs);
    }
  }
}
