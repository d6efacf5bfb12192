/**
 * @module native
 * Loads the addon and types its small surface (see native/server.h).
 */
import path from 'node:path';

export interface NativeServerCallbacks {
  dispatch(connId: number, count: number, slab: Uint8Array): void;
  onClose(connId: number): void;
  onClosed(): void;
  onDrain(connId: number): void;
  /** The client sent FIN while answers were owed to it. */
  onPeerEnd(connId: number): void;
  /** The last batch's microtasks have run: its still-pending requests copy their bytes now. */
  /** `end`: the batch's microtask checkpoint is over (its corked answers leave now). */
  detachPending(end: boolean): void;
  /** What a virtual (inject) connection writes. */
  onVirtualWrite(connId: number, bytes: Uint8Array): void;
}

export interface NativeServerOptions {
  maxHeaderBytes: number;
  maxHeaders: number;
  maxBody: number;
  maxUrl: number;
  headersTimeout: number;
  bodyTimeout: number;
  keepAliveTimeout: number;
  highWater: number;
  sendTimeout: number;
  outSize: number;
}

export interface NativeStats {
  reads: number;
  writes: number;
  batches: number;
  requests: number;
  accepted: number;
  connections: number;
  slabs: number;
}

export interface NativeServer {
  readonly rows: Int32Array;
  readonly headers: Int32Array;
  readonly ctl: Int32Array;
  readonly out: Uint8Array;
  readonly parser: 'sse42' | 'scalar';
  /** reusePort: SO_REUSEPORT before bind, so several servers share the port. */
  listen(host: string, port: number, backlog: number, reusePort: boolean): number;
  /** `spareUnused`: leave connections that have sent nothing yet (a later call closes them). */
  close(force: boolean, spareUnused?: boolean): void;
  /**
   * Sends bytes[0, length) then `extra`, as one write; the bytes settle
   * `answered` requests owed on the connection.  Returns its unsent bytes.
   */
  write(connId: number, bytes: Uint8Array, length: number, extra: Uint8Array | undefined, answered: number): number;
  /** Closes the connection once its output is flushed and nothing is owed. */
  end(connId: number): void;
  /** Reading was paused through ctl[CTL_PAUSE]: read (and parse what waits) again. */
  resume(connId: number): void;
  /** Unsent bytes; above half the high-water mark, onDrain follows once below. */
  watchDrain(connId: number): number;
  remoteAddress(connId: number): string;
  /** A virtual connection holding `bytes` as if read from a socket; returns its id. */
  inject(bytes: Uint8Array): number;
  /** Processes a virtual connection's bytes (after JS has registered it). */
  injectRun(connId: number): void;
  addRoute(methodId: number, pattern: string, id: number): boolean;
  stats(): NativeStats;
}

export interface ParsedHead {
  result: number;
  method?: string;
  target?: string;
  major?: number;
  minor?: number;
  headers?: [string, string][];
}

export interface Binding {
  Server: new (callbacks: NativeServerCallbacks, options: NativeServerOptions) => NativeServer;
  parseRequest(buf: Uint8Array, impl?: 'sse42' | 'scalar'): ParsedHead;
  benchParse(buf: Uint8Array, impl: 'sse42' | 'scalar', iterations: number): number;
  cpuHasSse42(): boolean;
  readonly parser: 'sse42' | 'scalar';
}

/**
 * The addon's path: dist/native.js -> ../build/Release/salvo.node.
 *
 * SALVO_ADDON, when set (non-empty) in the environment, is an absolute path to
 * a salvo.node to load instead, e.g. the AddressSanitizer build that
 * scripts/build-asan.sh makes and `npm run test:asan` runs the suite against.
 * A relative path is refused: it would resolve against whatever the cwd is.
 */
function addonPath(): string {
  const override = process.env.SALVO_ADDON;
  if (override) {
    if (!path.isAbsolute(override)) {
      throw new Error(`SALVO_ADDON must be an absolute path to a .node file, got ${JSON.stringify(override)}`);
    }
    return override;
  }
  return path.join(__dirname, '..', 'build', 'Release', 'salvo.node');
}

export const binding: Binding = require(addonPath());
