// Type tests for salvo's public API (spec "Types"): checked by
//   npx tsc --noEmit -p test/types/tsconfig.json   (test/api-types.test.mjs runs it)
// Lines after `// @ts-expect-error` must NOT compile; everything else must.

import { App, SalvoError, codes } from '../../dist/index';
import type { Request, Reply } from '../../dist/index';

/** Exact type equality. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function expectType<T extends true>(_v?: T): void {}

const app = new App({ debug: false, maxBodySize: 1024, maxUrlLength: 8192, maxHeaderBytes: 16384, maxHeaders: 100, highWaterMark: 65536 });

// --- params inferred from the path string --------------------------------------
app.get('/users/:id/posts/:post', (req) => {
  const id: string = req.params.id;
  const post: string = req.params.post;
  expectType<Equal<typeof req.params.id, string>>();
  expectType<Equal<typeof req.params.post, string>>();
  // @ts-expect-error: not a parameter of this path
  req.params.nope;
  // @ts-expect-error: params are strings, not numbers
  const n: number = req.params.id;
  return `${id}/${post}/${n}`;
});

app.get('/users/:id', (req) => {
  expectType<Equal<typeof req.params.id, string>>();
  // @ts-expect-error: only :id
  req.params.post;
  return req.params.id;
});

app.get('/files/*', (req) => {
  const rest: string = req.params['*'];
  // @ts-expect-error: no named parameter in a wildcard path
  req.params.file;
  return rest;
});

app.get('/static/path', (req) => {
  // @ts-expect-error: a static path has no parameters
  req.params.id;
  return 'ok';
});

// every method helper infers the same way, with and without options
app.post('/a/:x', (req) => req.params.x);
app.put('/a/:x', (req) => req.params.x);
app.patch('/a/:x', (req) => req.params.x);
app.delete('/a/:x', (req) => req.params.x);
app.options('/a/:x', (req) => req.params.x);
app.head('/a/:x', (req) => req.params.x);
app.all('/b/:y', (req) => req.params.y);
app.get('/c/:z', { schema: { response: { 200: { type: 'object', properties: { z: { type: 'string' } } } } } }, (req) => {
  // @ts-expect-error: only :z
  req.params.x;
  return { z: req.params.z };
});
app.post('/a2/:x', (req) => {
  // @ts-expect-error: only :x
  return req.params.y;
});

// route() infers from url
app.route({
  method: ['GET', 'POST'],
  url: '/r/:org/:repo',
  handler: (req) => {
    expectType<Equal<typeof req.params.org, string>>();
    // @ts-expect-error: not in the url
    req.params.branch;
    return `${req.params.org}/${req.params.repo}`;
  },
});

// chaining returns the app
const same: App = app.get('/chain', () => 'x').post('/chain', () => 'y');
void same;

// a dynamic path string gives a string record (no inference possible)
const dyn: string = '/dyn/' + Math.random();
app.get(dyn, (req) => req.params['anything']);

// --- request and reply surface -------------------------------------------------
app.post('/surface/:id', async (req: Request<{ id: string }>, res: Reply) => {
  const m: string = req.method;
  const u: string = req.url;
  const p: string = req.path;
  const q = req.query;
  const hv: string | undefined = req.header('x-a');
  const h = req.headers;
  const c: Record<string, string> = req.cookies;
  const ip: string = req.ip;
  const v: string = req.httpVersion;
  const ka: boolean = req.keepAlive;
  const body: Buffer = req.body;
  const text: string = await req.text();
  const json: unknown = await req.json();
  const form = await req.form();
  void [m, u, p, q, hv, h, c, ip, v, ka, body, text, json, form];
  res.status(201).header('X-A', 'b').type('text/plain').cookie('a', 'b', { maxAge: 1, httpOnly: true, sameSite: 'Lax' }).clearCookie('c', { path: '/' });
  // @ts-expect-error: sameSite is one of three strings
  res.cookie('a', 'b', { sameSite: 'lax' });
  const ok: boolean = res.write('chunk');
  if (!ok) await res.drained();
  res.end();
  const sent: boolean = res.sent;
  void sent;
});

app.get('/send', (req, res) => {
  res.send('x');
});
app.get('/json', (req, res) => res.json({ a: 1 }));
app.get('/redirect', (req, res) => res.redirect('/x', 301));

// --- hooks, handlers ----------------------------------------------------------
app.addHook('onRequest', (req, res) => { void req.url; void res.sent; });
app.addHook('preHandler', async () => {});
app.addHook('onSend', (req, res, payload) => (typeof payload === 'string' ? payload.toUpperCase() : payload));
app.addHook('onResponse', () => {});
app.addHook('onError', (req, res, err) => { void err; });
// @ts-expect-error: not a hook name
app.addHook('onNope', () => {});
app.setErrorHandler((err, req, res) => { res.status(500); return { message: String(err) }; });
app.setNotFoundHandler((req) => `no ${req.url}`);
app.decorateRequest('user', null);
app.decorateReply('created', function (this: Reply, v: unknown) { return this.status(201).send(v); });
const hasDecorators: boolean = app.hasRequestDecorator('user') && app.hasReplyDecorator('created');
void hasDecorators;
// @ts-expect-error: a decorator name is a string
app.decorateReply(1, null);

// --- errors ---------------------------------------------------------------------
const e = new SalvoError('SALVO_ERR_INVALID_ARG');
const code: string = e.code;
const status: number = e.statusCode;
void [code, status];
// @ts-expect-error: not a registered code
new SalvoError('SALVO_ERR_NOPE');
const k: keyof typeof codes = 'SALVO_ERR_NOT_FOUND';
void k;

// --- inject / listen ------------------------------------------------------------
async function main(): Promise<void> {
  const r = await app.inject({ method: 'POST', url: '/a/1', headers: { 'x-a': 'b' }, body: { any: 'json' } });
  const sc: number = r.statusCode;
  const sm: string = r.statusMessage;
  const b: string = r.body;
  const rb: Buffer = r.rawBody;
  const j = r.json<{ a: number }>();
  const a: number = j.a;
  void [sc, sm, b, rb, a];
  const server = await app.listen({ port: 0, host: '127.0.0.1', backlog: 10 });
  const port: number = server.port;
  const host: string = server.host;
  void [port, host, server.parser, server.stats()];
  await server.close({ timeout: 100 });
}
void main;

// --- trustProxy (src/trust-proxy.ts) ------------------------------------------
new App({ trustProxy: ['127.0.0.1', '10.0.0.0/8'], proxyHeader: 'forwarded' });
new App({ trustProxy: 2 });
new App({ trustProxy: 'loopback' });
new App({ trustProxy: (addr: string, hop: number) => hop === 0 && addr === '127.0.0.1' });
// @ts-expect-error: not a header family salvo reads
new App({ trustProxy: true, proxyHeader: 'x-forwarded-for' });
app.get('/proxied', (req) => {
  expectType<Equal<typeof req.ip, string>>();
  expectType<Equal<typeof req.ips, readonly string[]>>();
  expectType<Equal<typeof req.protocol, 'http' | 'https'>>();
  expectType<Equal<typeof req.host, string>>();
  return req.hostname;
});
