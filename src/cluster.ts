/**
 * @module cluster
 * One app on N cores: N worker threads, each with its own event loop and its
 * own addon state (the addon keeps no process-global state), each listening
 * on the same port with `reusePort` so that the kernel spreads new
 * connections over them.  The primary (the thread that called `cluster()`)
 * owns the workers: it replaces one that dies, drains all of them on
 * `close()` / SIGTERM / SIGINT, replaces them one at a time on `reload()`,
 * and collects their stats.
 *
 * Two ways to name the app (functions cannot cross into a thread):
 *  - a module path: each worker `require()`s it; its default export (or
 *    `module.exports`, or an export named `app`) is an App or a factory;
 *  - a factory function: like node:cluster, each worker runs the calling
 *    script (`process.argv[1]`) again; there `cluster(factory)` sees it is
 *    a worker, builds the app with `factory({ id })` and listens.
 */
import os from 'node:os';
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { SalvoError } from './errors';
import { checkKeys, objectArg, positiveInt } from './options';
import type { App } from './app';

export interface WorkerInfo {
  /** The worker's id as the factory got it: 'w1', 'w2', ... (a replacement gets a new one). */
  readonly id: string;
}
export type AppFactory = (info: WorkerInfo) => App | Promise<App>;

export interface ClusterOptions {
  /** Number of worker threads, or 'auto' (os.availableParallelism()). Default 'auto'. */
  workers?: number | 'auto';
  port?: number;
  host?: string;
  backlog?: number;
  /** ms a draining worker may take (server.close({ timeout })). Default 5000. */
  closeTimeout?: number;
  /** Close (drain) on SIGTERM and SIGINT, then exit 0. Default true. */
  handleSignals?: boolean;
  /** Node flags of the worker threads. Default: the process's (process.execArgv, as new Worker()), so loaders such as tsx apply. */
  execArgv?: string[];
}
const CLUSTER_KEYS = ['workers', 'port', 'host', 'backlog', 'closeTimeout', 'handleSignals', 'execArgv'];

export interface WorkerStats {
  id: string;
  threadId: number;
  /** The worker's server.stats(): requests, connections, accepted, ... */
  requests: number;
  connections: number;
  accepted: number;
  /** The process's resident set (threads share one process: the same for every worker). */
  rss: number;
  /** The worker's own V8 heap in use (per worker). */
  heapUsed: number;
}

interface Boot {
  salvoCluster: true;
  id: string;
  module: string | null;
  /** The factory form: the primary's script, run again in the worker. */
  script: string | null;
  port: number;
  host: string;
  backlog: number;
}

type FromWorker =
  | { t: 'listening'; port: number }
  | { t: 'error'; message: string; code?: string }
  | { t: 'stats'; seq: number; stats: Omit<WorkerStats, 'id' | 'threadId'> }
  | { t: 'closed' };

const boot = (!isMainThread && workerData && (workerData as Boot).salvoCluster === true ? (workerData as Boot) : null);

/** In a cluster worker: the worker's id; in the primary (or outside a cluster): undefined. */
export const workerId: string | undefined = boot?.id;

interface Member {
  id: string;
  worker: Worker;
  listening: Promise<number>;
  /** true once we asked it to stop: its exit is not a crash. */
  retiring: boolean;
  exited: Promise<void>;
}

export class Cluster {
  private readonly members = new Set<Member>();
  private next = 1;
  private closing: Promise<void> | undefined;
  private seq = 0;
  private readonly waiting = new Map<number, (s: WorkerStats) => void>();
  /** The port all workers share (the first bound it when asked for port 0). */
  port = 0;
  readonly host: string;
  /** Fired after a crashed worker's replacement listens: (oldId, newId, ms from the crash's exit to listening). */
  onReplace: ((oldId: string, newId: string, ms: number) => void) | undefined;

  /** @internal */
  constructor(
    private readonly script: string | null,
    private readonly module: string | null,
    private readonly count: number,
    private readonly opts: { port: number; host: string; backlog: number; closeTimeout: number; execArgv: string[] | undefined },
  ) {
    this.host = opts.host;
  }

  /** The ids of the live workers. */
  get workers(): string[] {
    return [...this.members].filter((m) => !m.retiring).map((m) => m.id);
  }

  /** @internal */
  async start(): Promise<this> {
    const first = this.spawn();
    this.port = await first.listening;
    await Promise.all(Array.from({ length: this.count - 1 }, () => this.spawn().listening));
    return this;
  }

  private spawn(): Member {
    const id = `w${this.next++}`;
    const data: Boot = { salvoCluster: true, id, module: this.module, script: this.script, port: this.port || this.opts.port, host: this.opts.host, backlog: this.opts.backlog };
    const worker = new Worker(__filename, { workerData: data, argv: process.argv.slice(2), execArgv: this.opts.execArgv });
    let resolveListen!: (p: number) => void;
    let rejectListen!: (e: Error) => void;
    const listening = new Promise<number>((res, rej) => { resolveListen = res; rejectListen = rej; });
    listening.catch(() => {});
    const m: Member = { id, worker, listening, retiring: false, exited: new Promise((res) => worker.once('exit', () => res())) };
    worker.on('message', (msg: FromWorker) => {
      if (msg.t === 'listening') resolveListen(msg.port);
      else if (msg.t === 'error') rejectListen(new SalvoError('SALVO_ERR_LISTEN', `worker ${id}: ${msg.message}`));
      else if (msg.t === 'stats') this.waiting.get(msg.seq)?.({ id, threadId: worker.threadId, ...msg.stats });
    });
    worker.on('error', (err) => rejectListen(err));
    worker.once('exit', () => {
      this.members.delete(m);
      rejectListen(new SalvoError('SALVO_ERR_LISTEN', `worker ${id} exited before it listened`));
      // A crash (not a stop we asked for): replace it at once, the others keep answering.
      if (!m.retiring && this.closing === undefined) {
        const at = Date.now();
        const r = this.spawn();
        r.listening.then(() => this.onReplace?.(id, r.id, Date.now() - at), () => {});
      }
    });
    this.members.add(m);
    return m;
  }

  private retire(m: Member, timeout: number): Promise<void> {
    m.retiring = true;
    m.worker.postMessage({ t: 'close', timeout });
    return m.exited;
  }

  /**
   * Replaces the workers one at a time: a new one listens (new code: the
   * module is loaded afresh in a new thread) before an old one drains, so
   * the port always has a listener.  Resolves with the new ids.
   */
  async reload(): Promise<string[]> {
    for (const old of [...this.members]) {
      if (old.retiring || this.closing) continue;
      await this.spawn().listening;
      await this.retire(old, this.opts.closeTimeout);
    }
    return this.workers;
  }

  /** Per-worker stats, asked of each worker. */
  async stats(): Promise<WorkerStats[]> {
    const live = [...this.members].filter((m) => !m.retiring);
    return Promise.all(live.map((m) => new Promise<WorkerStats>((resolve) => {
      const seq = ++this.seq;
      this.waiting.set(seq, (s) => { this.waiting.delete(seq); resolve(s); });
      m.worker.postMessage({ t: 'stats', seq });
    })));
  }

  /** Every worker stops accepting and drains (server.close({ timeout })); resolves when all have exited. */
  close(options: { timeout?: number } = {}): Promise<void> {
    if (this.closing) return this.closing;
    const timeout = options.timeout ?? this.opts.closeTimeout;
    if (typeof timeout !== 'number' || !(timeout >= 0)) throw new SalvoError('SALVO_ERR_INVALID_ARG', `timeout must be a number >= 0, got ${String(timeout)}`);
    this.closing = Promise.all([...this.members].map((m) => this.retire(m, timeout))).then(() => {});
    return this.closing;
  }
}

/** In a worker: build the app, listen with reusePort, answer the primary. */
async function runWorker(b: Boot, factory: AppFactory | undefined): Promise<void> {
  const port = parentPort!;
  try {
    let make: unknown = factory;
    if (b.module !== null) {
      const mod = require(b.module);
      make = mod && (mod.default ?? mod.app ?? mod);
    }
    const app = (typeof make === 'function' ? await (make as AppFactory)({ id: b.id }) : make) as App;
    if (!app || typeof app.listen !== 'function') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'the cluster module must export an App or a factory returning one');
    const server = await app.listen({ port: b.port, host: b.host, backlog: b.backlog, reusePort: true });
    port.on('message', (msg: { t: string; seq?: number; timeout?: number }) => {
      if (msg.t === 'stats') {
        const s = server.stats();
        port.postMessage({ t: 'stats', seq: msg.seq, stats: { requests: s.requests, connections: s.connections, accepted: s.accepted, rss: process.memoryUsage.rss(), heapUsed: process.memoryUsage().heapUsed } });
      } else if (msg.t === 'close') {
        void server.close({ timeout: msg.timeout }).then(() => process.exit(0));
      }
    });
    port.postMessage({ t: 'listening', port: server.port });
  } catch (err) {
    port.postMessage({ t: 'error', message: (err as Error).message, code: (err as { code?: string }).code });
    process.exit(1);
  }
}

/**
 * Runs the app in N worker threads sharing one port.  In the primary it
 * resolves with the Cluster; in a worker (factory form) it never resolves:
 * the worker's life is its server.
 */
export function cluster(app: string | AppFactory, options: ClusterOptions = {}): Promise<Cluster> {
  if (boot !== null) {
    void runWorker(boot, typeof app === 'function' ? app : undefined);
    return new Promise<Cluster>(() => {});
  }
  const o = objectArg('cluster() options', options);
  checkKeys('cluster()', o, CLUSTER_KEYS);
  if (typeof app !== 'string' && typeof app !== 'function') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'cluster() needs a module path or an app factory');
  const count = o.workers === undefined || o.workers === 'auto' ? os.availableParallelism() : positiveInt('workers', o.workers, 1);
  const port = o.port ?? 0;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) throw new SalvoError('SALVO_ERR_INVALID_ARG', `port must be an integer 0-65535, got ${String(port)}`);
  const host = o.host ?? '127.0.0.1';
  if (typeof host !== 'string') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'host must be a string');
  const closeTimeout = o.closeTimeout === undefined ? 5000 : o.closeTimeout;
  if (typeof closeTimeout !== 'number' || !(closeTimeout >= 0)) throw new SalvoError('SALVO_ERR_INVALID_ARG', 'closeTimeout must be a number >= 0');
  if (o.handleSignals !== undefined && typeof o.handleSignals !== 'boolean') throw new SalvoError('SALVO_ERR_INVALID_ARG', 'handleSignals must be a boolean');
  const execArgv = o.execArgv;
  if (execArgv !== undefined && (!Array.isArray(execArgv) || !execArgv.every((a) => typeof a === 'string'))) throw new SalvoError('SALVO_ERR_INVALID_ARG', 'execArgv must be an array of strings');
  const module = typeof app === 'string' ? path.resolve(app) : null;
  const script = module !== null ? null : path.resolve(process.argv[1]);
  const c = new Cluster(script, module, count, { port, host, backlog: positiveInt('backlog', o.backlog, 511), closeTimeout, execArgv: execArgv as string[] | undefined });
  if (o.handleSignals !== false) {
    const stop = () => void c.close().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  }
  return c.start();
}

// This file is every worker's script: the module form runs the app here; the
// factory form runs the primary's script again, whose cluster(factory) call
// then lands in runWorker.  A TypeScript script run through tsx needs tsx's
// require hook in the thread (Node 20's loader hooks do not reach workers).
if (boot !== null && require.main === module) {
  if (boot.module !== null) void runWorker(boot, undefined);
  else if (boot.script !== null) {
    if (/\.[cm]?tsx?$/.test(boot.script)) {
      try {
        require(require.resolve('tsx/cjs', { paths: [path.dirname(boot.script), process.cwd()] }));
      } catch {
        // no tsx: the require below fails with Node's own message
      }
    }
    require(boot.script);
  }
}
