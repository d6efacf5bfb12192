/**
 * @module server
 * A listening server, as `App.listen` resolves it: its address, parser,
 * counters, and `close()` (stop accepting, drain, cut after the timeout).
 */
import { SalvoError } from './errors';
import type { NativeServer } from './native';
import type { DateCache } from './response';

/** How long close() waits for the first request of a connection that has sent nothing yet. */
const UNUSED_GRACE_MS = 100;

export interface CloseOptions {
  /** Milliseconds to let in-flight requests finish before connections are cut. Default 5000. */
  timeout?: number;
}

export class Server {
  private closing: Promise<void> | undefined;
  /** @internal */
  constructor(
    private readonly native: NativeServer,
    readonly host: string,
    readonly port: number,
    private readonly closed: Promise<void>,
    private readonly date: DateCache,
  ) {}

  /** The parser path in use: 'sse42' or 'scalar' (SALVO_PARSER=scalar forces it). */
  get parser(): 'sse42' | 'scalar' {
    return this.native.parser;
  }

  /** Counters of the native side: reads, writes, batches, requests, connections. */
  stats() {
    return this.native.stats();
  }

  /**
   * Stops accepting; connections close once their in-flight responses are
   * flushed; past `timeout` ms the rest are cut.  Resolves when all are closed.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.closing) return this.closing;
    const timeout = options.timeout === undefined ? 5000 : options.timeout;
    if (typeof timeout !== 'number' || !(timeout >= 0)) {
      throw new SalvoError('SALVO_ERR_INVALID_ARG', `timeout must be a number >= 0, got ${String(timeout)}`);
    }
    // Connections accepted whose first request has not arrived get a short grace (a reload under load).
    this.native.close(false, true);
    const grace = setTimeout(() => this.native.close(false), Math.min(UNUSED_GRACE_MS, timeout));
    const timer = setTimeout(() => this.native.close(true), timeout);
    this.closing = this.closed.then(() => {
      clearTimeout(grace);
      clearTimeout(timer);
      this.date.stop();
    });
    return this.closing;
  }
}
