/**
 * @module salvo
 * A Japronto-style HTTP/1.1 micro-framework: C++ sockets and parser, one JS
 * call per read, one write per batch.
 */
export { App, Server } from './app';
export { fp, fp as plugin } from './plugin-context';
export type { AppOptions, ListenOptions, CloseOptions, PathParams, RouteHandler, RouteOptions, HookName, InjectOptions, InjectResponse, Plugin } from './app';
export { Reply } from './reply';
export type { CookieOptions } from './cookies';
export type { UnsignResult, CookieSecret } from './cookie-signing';
export type { Serializer, SerializerCompiler } from './serialization';
export type { TypeProvider, DefaultTypeProvider, CallTypeProvider, RouteSchema, TypedRequest, TypedHandler, TypedReturn, TypedReply, ReplyFor, TypedRouteOptions } from './type-provider';
export type { Validator, ValidatorCompiler } from './validation';
export type { Query } from './query';
export { Request } from './request';
export type { Logger, LoggerOptions, GenReqId } from './logger';
export type { Headers } from './request';
export type { TrustProxy, TrustFunction, ProxyHeader } from './trust-proxy';
export type { ContentTypeParserFn, ContentTypeParserOptions, ParseAs } from './content-type-parser';
export { cluster, Cluster, workerId } from './cluster';
export type { ClusterOptions, AppFactory, WorkerInfo, WorkerStats } from './cluster';
export { SalvoError, codes } from './errors';
export type { ErrorCode } from './errors';
export { binding as native } from './native';
export { cors } from './plugins/cors';
export type { CorsOptions, CorsOrigin } from './plugins/cors';
export { compress } from './plugins/compress';
export type { CompressOptions, Encoding } from './plugins/compress';
export { serveStatic } from './plugins/static';
export type { StaticOptions, Dotfiles } from './plugins/static';
