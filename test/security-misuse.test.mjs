// Security audit, misuse of the API (items 10, 11, 14, 15): inject() in loops and from
// handlers; hostile thrown values; unknown options are errors; returned values that are
// not bodies.
import t from 'tap'
import { Readable } from 'node:stream'
import { connect, get } from './helpers/raw-client.mjs'
import { start, salvo, runChild, thrown, failureOf, withTimeout, delay } from './helpers/security-util.mjs'

const { App } = salvo()
const safeJson = (s) => { try { return JSON.parse(s) } catch { return undefined } }
const inject = (app, opts) => withTimeout(app.inject(opts), 5000, `inject ${opts.url}`)

t.test('10: inject() against a sync handler 200 times in a row', async (t) => {
  const app = new App()
  app.get('/s', () => 'sync body')
  let bad = 0
  for (let i = 0; i < 200; i++) {
    const r = await inject(app, { url: '/s' })
    if (r.statusCode !== 200 || r.body !== 'sync body') bad++
  }
  t.equal(bad, 0, '200 injects, each 200 with the right body')
})

t.test('10: inject() called from inside handlers, in a loop', async (t) => {
  const app = new App()
  const fired = []
  app.get('/s', (req) => `inner ${req.query.i ?? ''}`)
  app.get('/outer/:i', async (req) => {
    const r = await app.inject({ url: `/s?i=${req.params.i}` })
    return `outer ${req.params.i} ${r.statusCode} ${r.body}`
  })
  app.get('/fire/:i', (req) => {
    fired.push(app.inject({ url: `/s?i=f${req.params.i}` })) // not awaited: answer at once
    return `fired ${req.params.i}`
  })
  let bad = 0
  for (let i = 0; i < 100; i++) {
    const r = await inject(app, { url: `/outer/${i}` })
    if (r.statusCode !== 200 || r.body !== `outer ${i} 200 inner ${i}`) bad++
    const f = await inject(app, { url: `/fire/${i}` })
    if (f.body !== `fired ${i}`) bad++
  }
  t.equal(bad, 0, 'every outer answer carries its inner answer')
  const inner = await withTimeout(Promise.all(fired), 5000, 'fired injects')
  t.same(inner.map((r) => r.body), fired.map((_, i) => `inner f${i}`), 'the fire-and-forget injects all completed')
  // The same while the app also listens, over a socket.
  const server = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => server.close({ timeout: 200 }).catch(() => {}))
  const c = await connect(t, server.port)
  await c.write(Buffer.concat(Array.from({ length: 20 }, (_, i) => get(`/outer/${i}`))))
  const rs = await c.readResponses(20, { timeout: 5000 })
  t.same(rs.map((r) => r.text), Array.from({ length: 20 }, (_, i) => `outer ${i} 200 inner ${i}`), 'pipelined over a socket, in order')
})

const HOSTILE_APP = `
const { App } = require(DIST)
const revoked = () => { const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); return proxy }
const getters = () => ({
  get statusCode () { throw new Error('statusCode getter') },
  get message () { throw new Error('message getter') }
})
const errGetters = () => {
  const e = new Error('x')
  Object.defineProperty(e, 'statusCode', { get () { throw new Error('statusCode getter') } })
  Object.defineProperty(e, 'message', { get () { throw new Error('message getter') } })
  return e
}
const app = new App()
app.get('/revoked', () => { throw revoked() })
app.get('/revoked-async', async () => { await null; throw revoked() })
app.get('/revoked-hook', { preHandler: () => { throw revoked() } }, () => 'never')
app.get('/getters', () => { throw getters() })
app.get('/getters-async', async () => { await null; throw getters() })
app.get('/error-getters', () => { throw errGetters() })
app.get('/ok', () => 'ok')
const server = await app.listen({ port: 0, host: '127.0.0.1' })
console.log('PORT ' + server.port)
`

for (const path of ['/revoked', '/revoked-async', '/revoked-hook', '/getters', '/getters-async', '/error-getters']) {
  t.test(`11: a hostile thrown value (${path}) answers 500 and the server process survives`, async (t) => {
    const child = await runChild(t, HOSTILE_APP)
    for (let round = 0; round < 2; round++) {
      const c = await connect(t, child.port)
      try {
        await c.write(get(path))
        const [r] = await c.readResponses(1, { timeout: 3000 })
        t.equal(r.status, 500, `${path}: 500`)
      } catch (e) {
        t.fail(`${path}: ${e.message}`)
      }
      c.destroy()
      await delay(20)
      t.equal(child.exitInfo, null, `${path}: the server process is alive${child.exitInfo ? ` (exited ${JSON.stringify(child.exitInfo)}: ${child.output().stderr.slice(0, 300)})` : ''}`)
      if (child.exitInfo) return
      const d = await connect(t, child.port)
      await d.write(get('/ok'))
      const [ok] = await d.readResponses(1, { timeout: 3000 })
      t.equal(ok.text, 'ok', `${path}: the next request is answered`)
      d.destroy()
    }
  })
}

t.test('14: unknown App options are errors that name the key', async (t) => {
  const e = thrown(() => new App({ maxbodysize: 10 }))
  t.equal(e?.code, 'SALVO_ERR_INVALID_ARG', 'maxbodysize: SALVO_ERR_INVALID_ARG')
  t.match(e?.message ?? '', /maxbodysize/, 'the message names the key')
  t.equal(thrown(() => new App({ maxBodySize: 10, debug: false })), undefined, 'known options are accepted')
})

t.test('14: unknown route options and schema keys are errors; validation schemas are not supported yet', async (t) => {
  const app = new App()
  const fn = () => {}
  const h = () => 'x'
  let e = thrown(() => app.get('/a', { onrequest: fn }, h))
  t.equal(e?.code, 'SALVO_ERR_INVALID_ARG', 'onrequest: SALVO_ERR_INVALID_ARG')
  t.match(e?.message ?? '', /onrequest/, 'the message names onrequest')
  e = thrown(() => app.route({ method: 'GET', url: '/b', handler: h, onrequest: fn }))
  t.equal(e?.code, 'SALVO_ERR_INVALID_ARG', 'route({ onrequest }): SALVO_ERR_INVALID_ARG')
  t.match(e?.message ?? '', /onrequest/, 'the message names onrequest')
  e = thrown(() => app.get('/c', { schema: { foo: {} } }, h))
  t.equal(e?.code, 'SALVO_ERR_INVALID_ARG', 'schema.foo: SALVO_ERR_INVALID_ARG')
  t.match(e?.message ?? '', /foo/, 'the message names foo')
  for (const key of ['body', 'querystring', 'params', 'headers']) {
    // Validated since issue 11 (test/essentials-validation.test.mjs): accepted, and a bad schema is refused.
    e = thrown(() => app.post(`/s-${key}`, { schema: { [key]: { type: 'object', properties: { a: { type: 'string' } } } } }, h))
    t.equal(e, undefined, `schema.${key} is accepted`)
    e = thrown(() => app.post(`/bad-${key}`, { schema: { [key]: { type: 'nonsense' } } }, h))
    t.equal(e?.code, 'SALVO_ERR_INVALID_ARG', `an invalid schema.${key}: SALVO_ERR_INVALID_ARG`)
  }
  t.equal(thrown(() => app.get('/ok', { onRequest: fn, schema: { response: { 200: { type: 'string' } } } }, h)), undefined, 'known route options are accepted')
})

t.test('14: listen() rejects unknown options', async (t) => {
  const app = new App()
  app.get('/', () => 'ok')
  const err = await failureOf(() => app.listen({ port: 0, hots: 'x' }), 5000, (server) => server?.close?.({ timeout: 100 }).catch(() => {}))
  t.equal(err?.code, 'SALVO_ERR_INVALID_ARG', 'hots: rejects SALVO_ERR_INVALID_ARG')
  t.match(err?.message ?? '', /hots/, 'the message names the key')
})

/** Call app.listen(opts, cb); resolve what the callback got (or { timeout }). Servers are collected. */
function listenCb (t, app, opts) {
  const servers = []
  t.teardown(() => Promise.all([...new Set(servers)].map((s) => s.close({ timeout: 100 }).catch(() => {}))))
  return withTimeout(new Promise((resolve) => {
    let ret
    try {
      ret = app.listen(opts, (err, server) => { if (server) servers.push(server); resolve({ err, server, args: 2 }) })
    } catch (e) {
      resolve({ threw: e })
      return
    }
    if (ret && typeof ret.then === 'function') ret.then((s) => servers.push(s), () => {})
  }), 3000, 'the listen callback').catch((e) => ({ timeout: e.message }))
}

t.test('14: listen(options, callback) calls back with (null, server)', async (t) => {
  const app = new App()
  app.get('/', () => 'via callback')
  const got = await listenCb(t, app, { port: 0, host: '127.0.0.1' })
  t.equal(got.err, null, `the callback got err === null (${JSON.stringify(got.timeout ?? got.threw?.message ?? got.err?.message ?? null)})`)
  t.ok(got.server && got.server.port > 0, 'and the server, with its port')
  if (got.server) {
    const c = await connect(t, got.server.port)
    await c.write(get('/'))
    t.equal((await c.readResponses(1))[0].text, 'via callback', 'the server answers')
  }
})

t.test('14: listen(options, callback) calls back with an error when the port is in use', async (t) => {
  const { port } = await start(t, {}, (app) => app.get('/', () => 'first'))
  const app = new App()
  app.get('/', () => 'second')
  const got = await listenCb(t, app, { port, host: '127.0.0.1' })
  t.ok(got.err instanceof Error, `the callback got an error (${JSON.stringify(got.timeout ?? got.threw?.message ?? null)})`)
  t.equal(got.err?.code, 'SALVO_ERR_LISTEN', 'SALVO_ERR_LISTEN')
  t.notOk(got.server, 'and no server')
})

t.test('15: returned values: a Readable is streamed; an Error is thrown; Map, Set, RegExp are not bodies', async (t) => {
  const { port, app } = await start(t, {}, (app) => {
    app.get('/readable', () => Readable.from(['a', 'b', 'c']))
    app.get('/readable-async', async () => Readable.from(['a', 'b', 'c']))
    app.get('/error', () => new Error('boom'))
    app.get('/error-async', async () => new Error('boom'))
    app.get('/error-404', () => Object.assign(new Error('gone'), { statusCode: 404 }))
    app.get('/map', () => new Map([['a', 1]]))
    app.get('/set', () => new Set([1]))
    app.get('/regexp', () => /x/)
  })
  const c = await connect(t, port)
  await c.write(Buffer.concat(['/readable', '/readable-async', '/error', '/error-async', '/error-404', '/map', '/set', '/regexp'].map((p) => get(p))))
  let rs
  try {
    rs = await c.readResponses(8, { timeout: 5000 })
  } catch (e) {
    t.fail(e.message)
    return
  }
  const [rd, rda, er, era, e404, map, set, re] = rs
  t.same([rd.status, rd.text], [200, 'abc'], 'a Readable answers its content')
  t.same([rda.status, rda.text], [200, 'abc'], 'a Readable from an async handler too')
  for (const [name, r] of [['Error', er], ['async Error', era]]) {
    t.equal(r.status, 500, `${name}: 500, as if thrown`)
    t.notOk(r.text.includes('boom'), `${name}: no message (debug off)`)
  }
  t.equal(e404.status, 404, 'an Error with statusCode 404: 404')
  t.equal(safeJson(e404.text)?.message, 'gone', 'a 4xx shows its message')
  for (const [name, r] of [['Map', map], ['Set', set], ['RegExp', re]]) {
    t.equal(r.status, 500, `${name}: 500`)
    t.equal(safeJson(r.text)?.code, 'SALVO_ERR_RESPONSE_TYPE', `${name}: SALVO_ERR_RESPONSE_TYPE`)
  }
  const inj = await inject(app, { url: '/readable' })
  t.same([inj.statusCode, inj.body], [200, 'abc'], 'through inject too')
})
