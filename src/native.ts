/**
 * @module native
 * Loads the addon and types its small surface (see native/server.h).
 */
import path from 'node:path';
import { SalvoError } from './errors';

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
  /**
   * Bytes [off, off + len) of `slab` are the next part of a streamed request
   * body (copy them now: the slab is reused); `event`: BODY_MORE, BODY_END,
   * BODY_ABORTED or the status it is refused with.  Return false to stop
   * reading the connection until resumeBody.
   */
  body(connId: number, slab: Uint8Array | undefined, off: number, len: number, event: number): boolean;
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
  /** Reads of one turn dispatched together after the poll phase (AppOptions.coalesceTurn). */
  coalesceTurn: boolean;
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
  /** streamLimit >= 0: the route's body is streamed, at most that many bytes (-1: buffered). */
  addRoute(methodId: number, pattern: string, id: number, streamLimit: number): boolean;
  /** A streamed body's consumer wants more: read the connection again. */
  resumeBody(connId: number): void;
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

/** What a developer or a user without a prebuilt binary needs to build the addon. */
const BUILD_TOOLS = 'install python3, make and g++ (Debian/Ubuntu: apt-get install -y python3 make g++) and run `npm rebuild salvo`';

function loadError(detail: string, cause: unknown): SalvoError {
  const why = cause instanceof Error ? cause.message.trim().split('\n')[0] : String(cause);
  return new SalvoError('SALVO_ERR_ADDON_LOAD', `${detail} (${why})`, { cause });
}

/**
 * Loads the addon.  By default node-gyp-build picks it from the package root
 * (dist/..): build/Release/salvo.node when the addon was built from source
 * (a checkout after `npm ci`, or an install where no prebuilt binary
 * matched), else prebuilds/<platform>-<arch>/salvo.glibc.node, the N-API
 * binary the published package carries (scripts/prebuild.js).
 *
 * SALVO_ADDON, when set (non-empty) in the environment, is an absolute path to
 * a salvo.node to load instead, e.g. the AddressSanitizer build that
 * scripts/build-asan.sh makes and `npm run test:asan` runs the suite against.
 * A relative path is refused: it would resolve against whatever the cwd is.
 *
 * Any failure is one SalvoError, SALVO_ERR_ADDON_LOAD, that says what is
 * missing and what to install: a bare "No native build was found" or a
 * dlopen message tells a user nothing about the fix.
 */
function loadBinding(): Binding {
  const override = process.env.SALVO_ADDON;
  if (override) {
    if (!path.isAbsolute(override)) {
      throw new SalvoError('SALVO_ERR_ADDON_LOAD', `SALVO_ADDON must be an absolute path to a .node file, got ${JSON.stringify(override)}`);
    }
    try {
      return require(override) as Binding;
    } catch (err) {
      throw loadError(`cannot load SALVO_ADDON=${override}`, err);
    }
  }
  const root = path.join(__dirname, '..');
  let file: string;
  try {
    // resolve() only finds the file; a found one that fails to load is told apart below.
    file = (require('node-gyp-build') as { resolve(dir: string): string }).resolve(root);
  } catch (err) {
    throw loadError(`no prebuilt binary for ${process.platform}-${process.arch} and no addon built from source in ${path.join(root, 'build', 'Release')}; ${BUILD_TOOLS}`, err);
  }
  try {
    return require(file) as Binding;
  } catch (err) {
    throw loadError(`the addon ${file} does not load on this system; to build it from source, ${BUILD_TOOLS}`, err);
  }
}

export const binding: Binding = loadBinding();
