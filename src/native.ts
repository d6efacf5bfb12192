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
  listen(host: string, port: number, backlog: number): number;
  close(force: boolean): void;
  /** Returns the connection's unsent bytes after the write. */
  send(connId: number, outLen: number, extra: Uint8Array | undefined, flags: number, slabId: number): number;
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

// dist/native.js -> ../build/Release/salvo.node
export const binding: Binding = require(path.join(__dirname, '..', 'build', 'Release', 'salvo.node'));
