// The TechEmpower Framework Benchmarks service on salvo: every test type.
//   DATABASE_URL=postgres://benchmarkdbuser:benchmarkdbpass@127.0.0.1:5432/hello_world npx tsx examples/tfb.ts
//   curl -i http://127.0.0.1:8080/plaintext        /json  /db  /queries?queries=20  /fortunes
//   curl -i 'http://127.0.0.1:8080/updates?queries=5'  'http://127.0.0.1:8080/cached-queries?count=10'
// Follows the TFB rules of each type: `Server` and `Date` on every answer; /json
// builds its object per request; /db, /queries and /updates read one random row
// (id 1..10000) per query, each query separate; queries/count clamped to 1..500,
// anything not an integer counts as 1; /fortunes reads every row, adds one at
// request time, sorts by message and escapes every value; /updates writes the
// new random numbers back in one batched statement (allowed by the rules);
// /cached-queries answers from an in-process copy of `world` loaded at start.
//
// Database: DATABASE_URL (TCP, or a unix socket as the driver writes it:
// postgres://user:pass@/hello_world?host=/var/run/postgresql), driver
// `postgres` 4 (prepared statements, queries pipelined on each connection; an
// ES module, which the CommonJS build in dist/ loads with require(esm): Node
// 20.19 or later). No URL, or a database that is down or unreachable: the DB
// routes answer 503 with an application-level code
// (TFB_ERR_DB_NOT_CONFIGURED / TFB_ERR_DB_UNAVAILABLE: errors of this app, not of
// salvo, so they are not SALVO_ERR_ codes); /plaintext and /json keep working
// and the process never crashes. A connect attempt gives up after 2 s.
//
// Pool size (TFB_POOL, default 1): postgres.js pipelines queries on each
// connection, so one connection keeps PostgreSQL's core busy: with the server
// on CPU 0 and PostgreSQL on CPU 1 more backends only compete for that core.
// `node bench/tfb.js --pool-sweep`, 2026-12-07 14:19 UTC, postgres.js 4.2.0,
// coalesceTurn on, load 0.51, wrk -c256 / -c16, 3 rounds x 5 s, medians of salvo's
// /db: pool 1 19,723 / 17,500 req/s, pool 2 16,995 / 16,431, pool 4 16,136 / 14,786,
// pool 8 14,509 / 12,483 (2026-12-04, option off, when this machine ran ~2.5x faster:
// 55,411 / 43,208, 50,539 / 42,545, 44,167 / 39,612, 40,138 / 35,168).
// The price: queries queue on the one connection, so a long /updates batch
// delays the queries behind it (TFB runs one test type at a time; a service
// mixing slow and fast queries may want a larger pool).
// PORT and HOST choose where it listens (defaults 8080 and 127.0.0.1).
import postgres from 'postgres';
import { App, type Reply } from 'salvo';

const SERVER = 'salvo';
const POOL = Number(process.env.TFB_POOL || 1);
if (!Number.isInteger(POOL) || POOL < 1) {
  console.error(`TFB_POOL must be a positive integer, got '${process.env.TFB_POOL}'`);
  process.exit(1);
}

interface World { id: number; randomNumber: number }

// ---- the database -----------------------------------------------------------
const url = process.env.DATABASE_URL;
const sql = url
  // max_pipeline 2000 (postgres.js's default is 100 queries in flight on a connection):
  // with one connection, 100 held /queries?queries=20 and /updates at 256 client
  // connections. 2026-12-05 01:07 UTC, load 0.26, salvo, 3 rounds x 5 s: /queries c256
  // 2,477 / 2,489 / 2,411 req/s with 100, 5,465 / 4,831 / 4,971 with 2000; /updates
  // c256 1,740 / 2,038 / 2,023 against 3,539 / 3,650 / 3,581. bench/servers/tfb-db.js
  // (the peers and the ceiling) uses the same.
  ? postgres(url, { max: POOL, max_pipeline: 2000, connect_timeout: 2, idle_timeout: 0, onnotice: () => {}, fetch_types: false })
  : null;

/** The 503 this app answers when the database is missing or down. */
class DbError extends Error {
  readonly statusCode = 503;
  constructor(readonly code: string, message: string) { super(message); }
}

function db(): NonNullable<typeof sql> {
  if (!sql) throw new DbError('TFB_ERR_DB_NOT_CONFIGURED', 'DATABASE_URL is not set');
  return sql;
}

/** Any driver failure (refused, closed, timed out) becomes the coded 503. */
function unavailable(err: unknown): never {
  if (err instanceof DbError) throw err;
  // A server-side error (PostgresError has a severity): the query is wrong, a 500.
  if ((err as { severity?: string })?.severity) throw Object.assign(new Error('query failed'), { code: 'TFB_ERR_DB_QUERY' });
  const why = (err as { code?: string })?.code ?? 'ERROR';
  throw new DbError('TFB_ERR_DB_UNAVAILABLE', `database unavailable (${why})`);
}

const randomId = (): number => 1 + Math.floor(Math.random() * 10000);

async function oneWorld(): Promise<World> {
  const rows = await db()`SELECT id, randomnumber FROM world WHERE id = ${randomId()}`;
  return { id: rows[0].id, randomNumber: rows[0].randomnumber };
}

/** The `queries`/`count` rule: an integer clamped to 1..500, anything else 1. */
function count(raw: unknown): number {
  if (typeof raw !== 'string' || !/^-?\d+$/.test(raw)) return 1;
  const n = Number(raw);
  return n < 1 ? 1 : n > 500 ? 500 : n;
}

function worlds(n: number): Promise<World[]> {
  const all: Promise<World>[] = new Array(n);
  for (let i = 0; i < n; i++) all[i] = oneWorld(); // separate queries, pipelined
  return Promise.all(all);
}

// ---- fortunes ---------------------------------------------------------------
const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESC[c]);

function fortunesHtml(rows: { id: number; message: string }[]): string {
  let html = '<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table><tr><th>id</th><th>message</th></tr>';
  for (const r of rows) html += `<tr><td>${r.id}</td><td>${escapeHtml(r.message)}</td></tr>`;
  return html + '</table></body></html>';
}

// ---- the cache of /cached-queries ------------------------------------------
const cache: World[] = [];
let loading: Promise<void> | null = null;
let lastTry = 0;

/** Loads `world` once; after a failure, tries again at most once a second. */
function loadCache(): Promise<void> {
  if (cache.length) return Promise.resolve();
  if (loading) return loading;
  if (Date.now() - lastTry < 1000) return Promise.reject(new DbError('TFB_ERR_DB_UNAVAILABLE', 'database unavailable (cache not loaded)'));
  lastTry = Date.now();
  loading = (async () => {
    try {
      const rows = await db()`SELECT id, randomnumber FROM world`;
      for (const r of rows) cache[r.id] = { id: r.id, randomNumber: r.randomnumber };
    } finally {
      loading = null;
    }
  })();
  return loading;
}

// ---- the routes -------------------------------------------------------------
const WORLD = { type: 'object', properties: { id: { type: 'integer' }, randomNumber: { type: 'integer' } } };
const WORLDS = { type: 'array', items: WORLD };
const ERROR = { type: 'object', properties: { statusCode: { type: 'integer' }, code: { type: 'string' }, error: { type: 'string' }, message: { type: 'string' } } };
const schema = (ok: object) => ({ response: { 200: ok, 503: ERROR } });

// salvo's coalesceTurn (docs/API.md) is on unless TFB_COALESCE_TURN=0: the
// requests of every connection read in one event-loop turn run in one callback
// scope, so postgres.js (which sends the queries queued in one tick with one
// write) writes once per turn instead of once per connection. On by measurement:
// two `npm run bench:tfb` runs back to back on one machine (2026-12-07, 13:46 and
// 14:02 UTC, load 0.96 and 0.19 before, max_pipeline 2000), on against off, salvo's
// medians at 256 / 16 connections: /db 20,895 / 20,223 against 16,516 / 14,544
// req/s, /queries?queries=20 2,235 / 2,031 against 2,089 / 1,612, /fortunes
// 17,980 / 17,339 against 11,373 / 12,708, /updates?queries=20 1,331 / 1,331
// against 1,345 / 1,074; the bench's bar 22 of 23 against 17 of 23. On /updates it
// is level: ad-hoc A/B at 18:01 UTC on the bench's database settings (bench/lib/pg.js),
// 256 connections, 5 rounds, 1,260 req/s on against 1,220 off (fastify 1,186); an
// earlier A/B's loss (1,149 against 1,303) was the table's first minutes. The README
// has the runs.
const COALESCE = process.env.TFB_COALESCE_TURN ?? '';
if (!['', '0', '1'].includes(COALESCE)) {
  console.error(`TFB_COALESCE_TURN must be 0 or 1, got '${COALESCE}'`);
  process.exit(1);
}
const COALESCE_ON = COALESCE !== '0';
const app = new App({ coalesceTurn: COALESCE_ON });
const server = (res: Reply): Reply => res.header('Server', SERVER);

app.get('/plaintext', (req, res) => { server(res); return 'Hello, World!'; });

app.get('/json', { schema: { response: { 200: { type: 'object', properties: { message: { type: 'string' } } } } } },
  (req, res) => { server(res); return { message: 'Hello, World!' }; });

app.get('/db', { schema: schema(WORLD) }, async (req, res) => {
  server(res);
  try { return await oneWorld(); } catch (err) { return unavailable(err); }
});

app.get('/queries', { schema: schema(WORLDS) }, async (req, res) => {
  server(res);
  try { return await worlds(count(req.query.queries)); } catch (err) { return unavailable(err); }
});

app.get('/fortunes', async (req, res) => {
  server(res);
  let rows: { id: number; message: string }[];
  try {
    rows = (await db()`SELECT id, message FROM fortune`).map((r) => ({ id: r.id, message: r.message }));
  } catch (err) { return unavailable(err); }
  rows.push({ id: 0, message: 'Additional fortune added at request time.' });
  rows.sort((a, b) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
  res.type('text/html; charset=utf-8');
  return fortunesHtml(rows);
});

app.get('/updates', { schema: schema(WORLDS) }, async (req, res) => {
  server(res);
  try {
    const rows = await worlds(count(req.query.queries));
    for (const w of rows) w.randomNumber = randomId();
    // One statement for the batch; rows sorted by id so concurrent updates lock
    // in the same order (no deadlocks), and an id drawn twice is written once
    // (with the value of its last occurrence, which is what the answer shows).
    const byId = new Map<number, number>();
    for (const w of rows) byId.set(w.id, w.randomNumber);
    const ids = [...byId.keys()].sort((a, b) => a - b);
    for (const w of rows) w.randomNumber = byId.get(w.id)!;
    const q = db();
    await q`UPDATE world SET randomnumber = v.r::int
      FROM (VALUES ${q(ids.map((id) => [id, byId.get(id)!]))}) AS v (id, r)
      WHERE world.id = v.id::int`;
    return rows;
  } catch (err) { return unavailable(err); }
});

app.get('/cached-queries', { schema: schema(WORLDS) }, async (req, res) => {
  server(res);
  try { await loadCache(); } catch (err) { return unavailable(err); }
  const n = count(req.query.count);
  const out: World[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = cache[randomId()];
  return out;
});

// 404s, 405s and errors carry `Server` too: every answer of this service does.
app.setNotFoundHandler((req, res) => {
  server(res).status(404);
  return { statusCode: 404, code: 'TFB_ERR_NOT_FOUND', error: 'Not Found', message: `no route ${req.method} ${req.path}` };
});
app.setErrorHandler((err, req, res) => {
  const e = err as { statusCode?: number; code?: string; message?: string };
  const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
  server(res).status(status);
  return { statusCode: status, code: e.code ?? 'TFB_ERR_INTERNAL', error: status === 503 ? 'Service Unavailable' : 'Error', message: status < 500 || e instanceof DbError ? String(e.message) : 'internal error' };
});

// ---- start and stop -----------------------------------------------------------
const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';
app.listen({ port, host }).then((srv) => {
  console.log(`tfb: listening on http://${srv.host}:${srv.port}/ (database ${url ? 'configured' : 'not configured'}, pool ${POOL}, coalesceTurn ${COALESCE_ON ? 'on' : 'off'})`);
  if (sql) loadCache().catch(() => { /* reported by /cached-queries as 503 */ });
  const stop = (): void => {
    void srv.close({ timeout: 2000 }).then(() => sql?.end({ timeout: 1 })).finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}, (err) => {
  console.error(err);
  process.exit(1);
});
