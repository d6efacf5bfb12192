// npm run bench:tfb's own parts, without its minutes of load: the settings
// (BENCH_ONLY's filter, validation, the 20-minute budget of the default run),
// the constant-rate runner against real h2load and a real node:http server on
// 127.0.0.1 (its --log-file percentiles and error counts), the bar of
// issue 10 on hand-made medians (PASS, FAIL and n/a), and the bench database
// (on a real PostgreSQL): its preconditioning before any load, and autovacuum
// within seconds of update load.
import t from 'tap'
import http from 'node:http'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { readTfbConfig, estimateSeconds } = require('../bench/lib/tfb-config.js')
const { runLatency, parseLog, ratesFor } = require('../bench/lib/tfb-latency.js')
const tfbBar = require('../bench/lib/tfb-bar.js')
const { summarize } = require('../bench/lib/tfb-report.js')
const { which, pinning } = require('../bench/lib/tools.js')
const { measureRound } = require('../bench/lib/tfb-load.js')
const { startPostgres, findBinaries, loadDriver, precondition, INSTALL_HINT } = require('../bench/lib/pg.js')

t.test('settings', async (t) => {
  const all = readTfbConfig({}, [])
  t.equal(all.servers.length, 3)
  t.equal(all.routes.length, 7)
  t.same(all.parts, ['throughput', 'ceiling', 'latency'])
  t.ok(estimateSeconds(all) <= 20 * 60, `the default run stays within 20 minutes (${Math.round(estimateSeconds(all) / 60)} min)`)
  t.ok(estimateSeconds(all) > 5 * 60, 'and the estimate counts the runs')

  const some = readTfbConfig({ BENCH_ONLY: 'db,fortunes,salvo' }, [])
  t.same(some.servers.map((s) => s.name), ['salvo'], 'a server name filters the servers')
  t.same(some.routes.map((r) => r.name), ['db', 'fortunes'], 'route names filter the routes')
  t.same(some.parts, ['throughput', 'ceiling', 'latency'], 'parts not named: all of them')
  t.same(readTfbConfig({ BENCH_ONLY: 'latency' }, []).servers.length, 3, 'a part alone keeps every server')
  t.same(readTfbConfig({ BENCH_ONLY: '*queries' }, []).routes.map((r) => r.name), ['queries', 'cached-queries'], '* patterns')
  t.ok(estimateSeconds(readTfbConfig({ BENCH_ONLY: 'db', BENCH_DURATION: '2', BENCH_ROUNDS: '1' }, [])) < estimateSeconds(all))

  t.throws(() => readTfbConfig({ BENCH_ONLY: 'mysql' }, []), /unknown case\(s\) mysql/)
  t.throws(() => readTfbConfig({}, ['--pool-swep']), /unknown argument\(s\) --pool-swep/)
  t.throws(() => readTfbConfig({ TFB_POOL: '0' }, []), /TFB_POOL must be a positive integer/)
  t.throws(() => readTfbConfig({ TFB_FIXED_RATE: 'fast' }, []), /TFB_FIXED_RATE must be a positive number/)
  t.equal(readTfbConfig({}, ['--pool-sweep']).poolSweep, true)
  t.equal(all.dbSocket, 'tcp', 'the servers and the ceiling reach PostgreSQL on 127.0.0.1 by default')
  t.equal(readTfbConfig({ TFB_DB_SOCKET: 'unix' }, []).dbSocket, 'unix', 'or on its unix socket')
  t.throws(() => readTfbConfig({ TFB_DB_SOCKET: 'udp' }, []), /TFB_DB_SOCKET must be one of tcp, unix, got 'udp'/)
})

t.test('rates: the fixed one, and 50% and 90% of fastify\'s peak when measured', async (t) => {
  t.same(ratesFor(5000, null).map((r) => r.rate), [5000])
  t.same(ratesFor(5000, 12001).map((r) => r.rate), [5000, 6001, 10801])
})

t.test('h2load log lines: latencies in ms, failed streams apart', async (t) => {
  const { ms, failedStreams } = parseLog('1700000000000000\t200\t1500\n1700000000000100\t-1\t99\n1700000000000200\t503\t250\n')
  t.same(ms, [1.5, 0.25])
  t.equal(failedStreams, 1)
})

const h2load = which('h2load')
t.test('constant rate against a real server', { skip: h2load ? false : 'h2load not installed (apt-get install -y nghttp2-client)' }, async (t) => {
  let fail = false
  const server = http.createServer((req, res) => {
    res.writeHead(fail ? 503 : 200, { 'Content-Type': 'text/plain' })
    res.end('ok')
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const tools = { h2load, pin: { taskset: null } }
  const opts = { port: server.address().port, path: '/', rate: 400, clients: 4, seconds: 2, cpu: 1 }

  const ok = await runLatency(tools, opts)
  t.equal(ok.errors.total, 0, 'no errors')
  t.ok(ok.held, `the rate was held (${ok.achieved.toFixed(0)} of 400 req/s answered)`)
  t.ok(ok.requests >= 0.9 * 800 && ok.requests <= 1.1 * 800, `about rate x seconds requests (${ok.requests})`)
  t.ok(ok.p50 > 0 && ok.p50 <= ok.p99 && ok.p99 <= ok.p999 && ok.p999 <= ok.max, 'p50 <= p99 <= p99.9 <= max')

  fail = true
  const bad = await runLatency(tools, { ...opts, seconds: 1 })
  t.ok(bad.errors.status > 0 && bad.errors.total >= bad.errors.status, `5xx answers are errors (${bad.errors.total})`)
})

t.test('the bar of issue 10', async (t) => {
  const routes = readTfbConfig({ BENCH_ONLY: 'db,plaintext' }, []).routes
  const servers = readTfbConfig({}, []).servers
  const sum = {
    rps: {
      salvo: { 'plaintext@256': 1e6, 'db@256': 30000, 'db@16': 20000 },
      fastify: { 'plaintext@256': 60000, 'db@256': 15000, 'db@16': 19000 },
      node: { 'plaintext@256': 70000, 'db@256': 16000, 'db@16': 21000 }
    },
    errors: { salvo: { 'plaintext@256': 0, 'db@256': 0, 'db@16': 0 } },
    ceiling: { 'db@256': 40000, 'db@16': 50000 }
  }
  const latency = [
    { path: '/db', server: 'salvo', rate: 5000, p99: 3, held: true, errors: { total: 0 } },
    { path: '/db', server: 'fastify', rate: 5000, p99: 4, held: true, errors: { total: 0 } }
  ]
  const verified = { salvo: [], fastify: [], node: [] }
  const items = tfbBar.evaluate({ sum, routes, servers, verified, latency, fixedRate: 5000 })
  const result = (what) => items.find((x) => x.what === what)?.pass
  t.equal(result('every server passes the TFB verification'), true)
  t.equal(result('salvo ahead of fastify and node:http, /plaintext c256'), true)
  t.equal(result('salvo ahead of fastify and node:http, /db c16'), false, 'node:http ahead at 16 connections')
  t.equal(result('salvo / fastify, /plaintext c256'), true, '16.7x >= 10x')
  t.equal(result('salvo / fastify, /db c256'), true, '2x >= 1.5x')
  t.equal(result('salvo / fastify, json'), null, 'a route not run is n/a')
  t.equal(result('salvo / driver-only ceiling, /db c256'), true, '0.75x >= 0.5x')
  t.equal(result('salvo / driver-only ceiling, /db c16'), false, '0.4x < 0.5x')
  t.equal(result('zero errors for salvo in every run'), true)
  t.equal(result('p99 salvo / fastify at 5000 req/s, /db'), true)
  t.match(tfbBar.text(items), /bar: \d+ PASS, 2 FAIL, \d+ n\/a/)
  t.notOk(items.some((x) => x.note), 'no CPU medians: no notes')

  // CPU 1 (PostgreSQL and wrk) busy for every server at 16 connections: the
  // item says the database side bounds them all; at 256 two servers are below.
  // A ceiling item notes salvo's CPU 1 alone (the ceiling has no wrk there).
  const busy = (c16, c256) => ({ 'db@16': c16, 'db@256': c256 })
  const bound = tfbBar.evaluate({
    sum: { ...sum, loadCpu: { salvo: busy(0.99, 0.90), fastify: busy(0.98, 0.80), node: busy(0.96, 0.97) } },
    routes,
    servers,
    verified,
    latency,
    fixedRate: 5000
  })
  const note = (what) => bound.find((x) => x.what === what)?.note
  t.match(note('salvo ahead of fastify and node:http, /db c16'), /CPU 1 \(PostgreSQL and wrk\) 96-99 % busy for every server/)
  t.notOk(note('salvo ahead of fastify and node:http, /db c256'), 'fastify at 80 %: no note')
  t.match(note('salvo / driver-only ceiling, /db c16'), /salvo's CPU 1 99 % busy: PostgreSQL shares it with wrk here, not in the ceiling/)
  t.notOk(note('salvo / driver-only ceiling, /db c256'), 'salvo at 90 %: no note')
  t.match(tfbBar.text(bound), /\/db c16 .*FAIL +\(CPU 1/)

  // The rounds' ranges of salvo and the better peer overlap: the item says
  // its verdict is within the run's spread, whichever way it went.
  const spread = tfbBar.evaluate({
    sum: { ...sum, range: { salvo: { 'db@16': [19000, 22500], 'db@256': [29000, 31000], 'plaintext@256': [50000, 60000] }, fastify: { 'db@16': [18000, 19500], 'db@256': [14000, 15500] }, node: { 'db@16': [20500, 21500], 'db@256': [15000, 17000], 'plaintext@256': [65000, 75000] } } },
    routes,
    servers,
    verified,
    latency,
    fixedRate: 5000
  })
  const sNote = (what) => spread.find((x) => x.what === what)?.note
  t.equal(sNote('salvo ahead of fastify and node:http, /db c16'), 'rounds overlap: salvo 19,000-22,500, node 20,500-21,500 req/s', 'node:http ahead by its median, within the spread')
  t.notOk(sNote('salvo ahead of fastify and node:http, /db c256'), 'salvo\'s slowest round above the better peer\'s fastest: no note')
  t.notOk(sNote('salvo ahead of fastify and node:http, /plaintext c256'), 'the peer\'s slowest above salvo\'s fastest: no note either')
  const both = tfbBar.evaluate({
    sum: { ...sum, range: { salvo: { 'db@16': [19000, 22500] }, fastify: { 'db@16': [18000, 19500] }, node: { 'db@16': [20500, 21500] } }, loadCpu: { salvo: busy(0.99, 0.90), fastify: busy(0.98, 0.80), node: busy(0.96, 0.97) } },
    routes,
    servers,
    verified,
    latency,
    fixedRate: 5000
  })
  t.match(both.find((x) => x.what === 'salvo ahead of fastify and node:http, /db c16').note, /^CPU 1 .* busy for every server: bound there, not by the servers; rounds overlap: salvo 19,000-22,500, node 20,500-21,500 req\/s$/, 'both notes, joined')

  // The summary keeps each server's slowest and fastest round per route.
  const run = (rps) => ({ rps, errorCount: 0, cpu: { load: 0.5 } })
  const summed = summarize({ salvo: [{ runs: { 'db@16': run(300) } }, { runs: { 'db@16': run(100) } }, { runs: { 'db@16': run(200) } }] }, {})
  t.equal(summed.rps.salvo['db@16'], 200, 'the median')
  t.same(summed.range.salvo['db@16'], [100, 300], 'and the range')

  const worse = tfbBar.evaluate({
    sum: { ...sum, errors: { salvo: { 'db@256': 3 } } },
    routes,
    servers,
    verified: { ...verified, node: ['/db: status 500, not 200'] },
    latency: [{ ...latency[0], p99: 5 }, latency[1]],
    fixedRate: 5000
  })
  const r2 = (what) => worse.find((x) => x.what === what)?.pass
  t.equal(r2('every server passes the TFB verification'), false, 'one failing server fails the item')
  t.equal(r2('zero errors for salvo in every run'), false, 'three wrk errors')
  t.equal(r2('p99 salvo / fastify at 5000 req/s, /db'), false, 'a higher p99 than fastify')
})

/** A fresh bench database for one subtest, removed at its end; resolves to a driver on it. */
async function database (t) {
  const db = await startPostgres()
  t.teardown(() => db.stop())
  const sql = loadDriver()(db.url, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end({ timeout: 1 }))
  return sql
}
const noPostgres = findBinaries() ? false : `PostgreSQL is not installed (${INSTALL_HINT})`

// A round on real servers, a real PostgreSQL and real wrk: the servers take
// turns route by route (a ratio compares runs seconds apart, not a minute),
// and a server that fails the verifier is stopped and never loaded.
const wrk = which('wrk')
t.test('a round: the servers take turns route by route; a failing one is not loaded', { skip: noPostgres || (wrk ? false : 'wrk not installed (apt-get install -y wrk)') }, async (t) => {
  const db = await startPostgres()
  t.teardown(() => db.stop())
  const sql = loadDriver()(db.url, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end({ timeout: 1 }))
  const config = readTfbConfig({ BENCH_ONLY: 'plaintext,json,salvo,node', BENCH_DURATION: '1', BENCH_WARMUP: '1' }, [])
  const broken = { name: 'broken', argv: [process.execPath, '-e', "require('node:http').createServer((q, s) => s.end('no')).listen(process.env.PORT, '127.0.0.1')"] }
  const lines = []
  const ctx = { config, tools: { wrk, pin: pinning([config.serverCpu, config.loadCpu]) }, db, dbUrl: db.url, sql, log: (s) => lines.push(s), failures: [] }
  const m = await measureRound([...config.servers, broken], ctx)
  t.same(Object.keys(m).sort(), ['broken', 'node', 'salvo'])
  t.equal(m.broken.failed, 'failed the TFB verification')
  t.same(m.broken.runs, {}, 'the broken server is not loaded')
  t.ok(m.broken.problems.length > 0, 'and its problems are kept')
  t.match(lines.join('\n'), /broken: FAILED the TFB verification, not benchmarked/)
  for (const name of ['salvo', 'node']) {
    t.same(m[name].problems, [], `${name} passed the verifier`)
    t.equal(m[name].failed, null)
    for (const k of ['plaintext@256', 'json@256']) t.ok(m[name].runs[k]?.rps > 0, `${name} ${k} measured`)
  }
  const runs = lines.filter((l) => / c\d+: [\d,]+ req\/s/.test(l)).map((l) => l.trim().split(' ').slice(0, 2).join(' '))
  t.same(runs, ['salvo /plaintext', 'node /plaintext', 'node /json', 'salvo /json'], 'route by route, the order turned per route')
})

t.test('the bench database answers on its unix socket as on 127.0.0.1', { skip: noPostgres }, async (t) => {
  const db = await startPostgres()
  t.teardown(() => db.stop())
  t.match(db.url, /^postgres:\/\/benchmarkdbuser:benchmarkdbpass@127\.0\.0\.1:\d+\/hello_world$/)
  t.match(db.unixUrl, /^postgres:\/\/benchmarkdbuser:benchmarkdbpass@\/hello_world\?host=/)
  for (const url of [db.url, db.unixUrl]) {
    const sql = loadDriver()(url, { max: 1, onnotice: () => {} })
    const [row] = await sql`SELECT count(*)::int AS n, inet_server_addr() AS addr FROM world`
    await sql.end({ timeout: 1 })
    t.equal(row.n, 10000, `world has its rows through ${url === db.url ? 'tcp' : 'the socket'}`)
    // inet_server_addr() is null on a unix-socket connection.
    t.equal(row.addr, url === db.url ? '127.0.0.1' : null, url === db.url ? 'a tcp connection' : 'a unix-socket connection')
  }
})

t.test('precondition: the first updates after it stay in their page, the rows unchanged', { skip: noPostgres }, async (t) => {
  const sql = await database(t)
  const rows = async () => (await sql`SELECT count(*)::int AS n, sum(id::bigint * randomnumber)::text AS sum FROM world`)[0]
  // The share of row updates that were HOT (the new version in the old one's
  // page: no index entry, no new page) over `batches` random /updates-like
  // statements of 20 rows. The counters are this backend's: flushed on demand.
  const hotShare = async (batches) => {
    const counts = async () => {
      await sql`SELECT pg_stat_force_next_flush()`
      await sql`SELECT 1`
      return (await sql`SELECT n_tup_upd::int AS upd, n_tup_hot_upd::int AS hot FROM pg_stat_user_tables WHERE relname = 'world'`)[0]
    }
    const before = await counts()
    const rid = () => 1 + Math.floor(Math.random() * 10000)
    for (let i = 0; i < batches; i++) {
      const ids = [...new Set(Array.from({ length: 20 }, rid))].sort((a, b) => a - b)
      await sql`UPDATE world SET randomnumber = v.r::int FROM (VALUES ${sql(ids.map((id) => [id, rid()]))}) AS v (id, r) WHERE world.id = v.id::int`
    }
    const after = await counts()
    return (after.hot - before.hot) / (after.upd - before.upd)
  }
  const before = await rows()
  t.equal(before.n, 10000)
  await precondition(sql)
  t.same(await rows(), before, 'every row keeps its value')
  // A freshly filled table is packed: its first updates cannot stay in their
  // page, and the first /updates load of a run (salvo's, in round 1) ran low
  // for its first seconds while the rows spread out.
  const share = await hotShare(100)
  t.ok(share >= 0.95, `the first 2,000 row updates after it are in-page (${Math.round(share * 100)} %)`)
})

// With PostgreSQL's default autovacuum_naptime (1 min) world carried up to
// 38,000 dead row versions under /updates, more the longer since the last
// pass, and most in the first minute, which the first server to load /updates
// (salvo, in round 1) met alone. The bench's database vacuums within seconds
// of any update load, so every server meets the same table.
t.test('the bench database vacuums world within seconds of updates', { skip: noPostgres }, async (t) => {
  const sql = await database(t)
  const vacuums = async () => (await sql`SELECT autovacuum_count::int AS n FROM pg_stat_user_tables WHERE relname = 'world'`)[0].n
  t.equal(await vacuums(), 0, 'not vacuumed before any update')
  // 3,000 row versions: past autovacuum's threshold for 10,000 rows (50 + 20 %).
  for (let i = 0; i < 3; i++) await sql`UPDATE world SET randomnumber = randomnumber WHERE id > ${i * 1000} AND id <= ${(i + 1) * 1000}`
  const until = Date.now() + 8000
  let n = 0
  while ((n = await vacuums()) === 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 250))
  t.ok(n >= 1, `autovacuum visited world within 8 s of the updates (${n} times)`)
})
