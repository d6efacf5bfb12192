// API spec, "App" listen/Server items: const server = await app.listen({ port, host, backlog });
// server.port; server.host; server.parser; server.stats(); await server.close({ timeout }).
// Also the App option defaults named by the spec (maxUrlLength 8192).

import t from 'tap'
import net from 'node:net'
import { salvo, withTimeout, socketRequest, gate, until, buildRequest } from './helpers/api.mjs'
import { connect } from './helpers/raw-client.mjs'

const refused = (port) => new Promise((resolve) => {
  const s = net.connect({ port, host: '127.0.0.1' })
  const timer = setTimeout(() => { s.destroy(); resolve('timeout') }, 5000)
  s.once('connect', () => { clearTimeout(timer); s.destroy(); resolve(false) })
  s.once('error', (err) => { clearTimeout(timer); resolve(err.code === 'ECONNREFUSED' ? true : err.code) })
})

t.test('listen(): port, host, parser, stats()', async (t) => {
  const { App } = salvo()
  const app = new App()
  app.get('/', () => 'hi')
  const server = await withTimeout(app.listen({ port: 0, host: '127.0.0.1', backlog: 64 }), 10_000, 'listen')
  t.teardown(() => withTimeout(Promise.resolve(server.close({ timeout: 500 })), 10_000, 'close').catch(() => {}))
  t.ok(Number.isInteger(server.port) && server.port > 0 && server.port < 65536, `port ${server.port}`)
  t.equal(server.host, '127.0.0.1')
  t.ok(['sse42', 'scalar'].includes(server.parser), `parser ${server.parser}`)
  const s0 = server.stats()
  t.type(s0, 'object')
  for (const [k, v] of Object.entries(s0)) t.type(v, 'number', `stats().${k} is a number`)
  const c = await connect(t, server.port)
  await c.write(Buffer.concat([buildRequest({ url: '/' }), buildRequest({ url: '/' }), buildRequest({ url: '/' })]))
  const rs = await c.readResponses(3)
  t.same(rs.map((r) => r.text), ['hi', 'hi', 'hi'])
  const s1 = server.stats()
  t.ok(Object.values(s1).some((v, i) => v > Object.values(s0)[i]), `counters moved: ${JSON.stringify(s0)} -> ${JSON.stringify(s1)}`)
  if ('requests' in s1) t.ok(s1.requests - (s0.requests ?? 0) >= 3, 'requests counted')
})

t.test('listen() on a port in use rejects with a SalvoError', async (t) => {
  const { App, codes } = salvo()
  const a = new App()
  a.get('/', () => 'a')
  const s1 = await withTimeout(a.listen({ port: 0, host: '127.0.0.1' }), 10_000, 'listen')
  t.teardown(() => withTimeout(Promise.resolve(s1.close({ timeout: 500 })), 10_000, 'close').catch(() => {}))
  const b = new App()
  b.get('/', () => 'b')
  let err
  try {
    const s2 = await withTimeout(b.listen({ port: s1.port, host: '127.0.0.1' }), 10_000, 'listen 2')
    // SO_REUSEPORT may allow sharing the port; then this is not an error.
    t.comment(`second listen on ${s1.port} succeeded (port sharing)`)
    await s2.close({ timeout: 500 })
    return
  } catch (e) { err = e }
  t.ok(err.code in codes, `registered code ${err.code}`)
})

t.test('listen() rejects bad options', async (t) => {
  const { App, codes } = salvo()
  for (const opts of [{ port: -1 }, { port: 70000 }, { port: 1.5 }, { port: 'x' }]) {
    const app = new App()
    let err
    try { const s = await withTimeout(app.listen({ host: '127.0.0.1', ...opts }), 10_000, 'listen'); await s.close() } catch (e) { err = e }
    t.ok(err && err.code in codes, `${JSON.stringify(opts)}: ${err?.code}`)
  }
})

t.test('close(): stops accepting; resolves; in-flight requests finish first', async (t) => {
  const { App } = salvo()
  const app = new App()
  const g = gate()
  let started = false
  app.get('/slow', async () => { started = true; await g.p; return 'finished' })
  app.get('/', () => 'x')
  const server = await withTimeout(app.listen({ port: 0, host: '127.0.0.1' }), 10_000, 'listen')
  const port = server.port
  const c = await connect(t, port)
  await c.write(buildRequest({ url: '/slow' }))
  await until(() => started, 'handler started')
  const closing = server.close({ timeout: 5000 })
  t.type(closing.then, 'function', 'close() returns a promise')
  setTimeout(() => g.open(), 50)
  const [r] = await c.readResponses(1)
  t.equal(r.text, 'finished', 'the in-flight request is answered')
  await withTimeout(closing, 10_000, 'close resolves')
  t.equal(await refused(port), true, 'no longer accepting')
})

t.test('close({ timeout }): a request that never finishes is cut after the timeout', async (t) => {
  const { App } = salvo()
  const app = new App()
  let started = false
  app.get('/hang', () => { started = true; return new Promise(() => {}) })
  const server = await withTimeout(app.listen({ port: 0, host: '127.0.0.1' }), 10_000, 'listen')
  const c = await connect(t, server.port)
  await c.write(buildRequest({ url: '/hang' }))
  await until(() => started, 'handler started')
  const t0 = Date.now()
  await withTimeout(server.close({ timeout: 200 }), 10_000, 'close with timeout 200')
  const took = Date.now() - t0
  t.ok(took >= 150, `waited for the timeout (${took} ms)`)
  t.ok(await c.closedWithin(5000), 'the connection was cut')
})

t.test('maxUrlLength defaults to 8192', async (t) => {
  const { App } = salvo()
  const app = new App()
  app.get('/*', (req) => `len=${req.url.length}`)
  const server = await withTimeout(app.listen({ port: 0, host: '127.0.0.1' }), 10_000, 'listen')
  t.teardown(() => withTimeout(Promise.resolve(server.close({ timeout: 500 })), 10_000, 'close').catch(() => {}))
  const ok = await socketRequest(server.port, { url: '/' + 'a'.repeat(8000) })
  t.equal(ok.statusCode, 200, '8001-byte target is fine')
  t.equal(ok.body, 'len=8001')
  const long = await socketRequest(server.port, { url: '/' + 'a'.repeat(8200) })
  t.equal(long.statusCode, 414, '8201-byte target is 414')
  t.equal(long.json().code, 'SALVO_ERR_URI_TOO_LONG')
})

t.test('new App() rejects bad options with SALVO_ERR_INVALID_ARG', async (t) => {
  const { App } = salvo()
  for (const o of [{ maxBodySize: -1 }, { maxUrlLength: 0 }, { maxHeaders: 'x' }, { highWaterMark: 1.5 }]) {
    let err
    try { new App(o) } catch (e) { err = e } // eslint-disable-line no-new
    t.equal(err?.code, 'SALVO_ERR_INVALID_ARG', JSON.stringify(o))
  }
})
