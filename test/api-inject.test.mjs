// API spec, app.inject(): defaults, bodies (string | Buffer | object -> JSON), the result
// shape, works without listen(), in parallel, alongside a listening server, same parser.

import t from 'tap'
import { salvo, withTimeout, listenApp, socketRequest } from './helpers/api.mjs'

const inj = (app, o) => withTimeout(app.inject(o), 10_000, `inject ${JSON.stringify(o)?.slice(0, 80)}`)

function makeApp () {
  const { App } = salvo()
  const app = new App()
  // /echo reports the bytes inject sent: no built-in JSON/text parsing, req.body stays the raw Buffer.
  app.removeContentTypeParser(['application/json', 'text/plain'])
  app.get('/', () => 'root')
  app.all('/echo', async (req) => ({
    method: req.method,
    url: req.url,
    headers: req.headers,
    body: req.body.toString('base64'),
    len: req.body.length
  }))
  app.post('/json', async (req) => ({ got: await req.json() }))
  app.get('/cookies', (req, res) => { res.cookie('a', '1').cookie('b', '2').header('X-Multi', 'x'); return 'c' })
  app.get('/bin', () => Buffer.from([0, 255, 128, 10]))
  return app
}

t.test('works without listen(); defaults: GET /', async (t) => {
  const app = makeApp()
  const r = await inj(app)
  t.equal(r.statusCode, 200)
  t.equal(r.body, 'root')
  const r2 = await inj(app, {})
  t.equal(r2.body, 'root')
  const e = (await inj(app, { url: '/echo' })).json()
  t.equal(e.method, 'GET', 'method defaults to GET')
})

t.test('result shape: statusCode, statusMessage, headers (lower-case), body, rawBody, json()', async (t) => {
  const app = makeApp()
  const r = await inj(app, { url: '/cookies' })
  t.equal(r.statusCode, 200)
  t.equal(r.statusMessage, 'OK')
  t.type(r.headers, 'object')
  for (const k of Object.keys(r.headers)) t.equal(k, k.toLowerCase(), `header name ${k} lower-case`)
  t.equal(r.headers['x-multi'], 'x')
  t.same(r.headers['set-cookie'], ['a=1', 'b=2'], 'set-cookie as an array')
  t.match(r.headers['content-type'], /^text\/plain; charset=utf-8$/i)
  t.type(r.body, 'string')
  t.ok(Buffer.isBuffer(r.rawBody), 'rawBody is a Buffer')
  t.equal(r.rawBody.toString(), r.body)
  t.type(r.json, 'function')
  const b = await inj(app, { url: '/bin' })
  t.same([...b.rawBody], [0, 255, 128, 10], 'rawBody keeps the bytes')
  const j = await inj(app, { url: '/json', method: 'POST', body: { z: 1 } })
  t.same(j.json(), { got: { z: 1 } })
  const nf = await inj(app, { url: '/nowhere' })
  t.equal(nf.statusCode, 404)
  t.equal(nf.statusMessage, 'Not Found')
  t.equal(nf.json().code, 'SALVO_ERR_NOT_FOUND')
})

t.test('bodies: string, Buffer, object -> JSON', async (t) => {
  const app = makeApp()
  const s = (await inj(app, { method: 'POST', url: '/echo', body: 'h\u00e9' })).json()
  t.equal(Buffer.from(s.body, 'base64').toString(), 'h\u00e9')
  t.equal(s.len, 3, 'UTF-8 bytes')
  t.equal(s.headers['content-length'], '3')
  const bytes = Buffer.from([1, 2, 3, 0, 255])
  const b = (await inj(app, { method: 'PUT', url: '/echo', body: bytes })).json()
  t.same([...Buffer.from(b.body, 'base64')], [...bytes])
  t.equal(b.method, 'PUT')
  const u = (await inj(app, { method: 'POST', url: '/echo', body: new Uint8Array([7, 8]) })).json()
  t.same([...Buffer.from(u.body, 'base64')], [7, 8], 'Uint8Array body')
  const o = (await inj(app, { method: 'POST', url: '/echo', body: { a: [1, { b: null }] } })).json()
  t.same(JSON.parse(Buffer.from(o.body, 'base64').toString()), { a: [1, { b: null }] })
  t.match(o.headers['content-type'], /^application\/json/, 'object body gets a JSON content-type')
  const ct = (await inj(app, { method: 'POST', url: '/echo', body: { a: 1 }, headers: { 'Content-Type': 'application/vnd.x+json' } })).json()
  t.equal(ct.headers['content-type'], 'application/vnd.x+json', 'an explicit content-type is kept')
  const j = await inj(app, { method: 'POST', url: '/json', body: [1, 2, 3] })
  t.same(j.json(), { got: [1, 2, 3] }, 'array body as JSON')
})

t.test('headers given to inject reach the request (arrays repeat the field)', async (t) => {
  const app = makeApp()
  const e = (await inj(app, { url: '/echo?x=1', headers: { 'X-One': 'a', 'x-rep': ['1', '2'], 'X-Num': 5 } })).json()
  t.equal(e.url, '/echo?x=1')
  t.equal(e.headers['x-one'], 'a')
  t.equal(e.headers['x-rep'], '1, 2')
  t.equal(e.headers['x-num'], '5')
  t.type(e.headers.host, 'string', 'a Host is supplied')
})

t.test('several in parallel', async (t) => {
  const app = makeApp()
  const N = 100
  const rs = await Promise.all([...Array(N).keys()].map((i) => inj(app, { method: 'POST', url: `/echo?i=${i}`, body: `b${i}` })))
  rs.forEach((r, i) => {
    const j = r.json()
    t.equal(j.url, `/echo?i=${i}`)
    t.equal(Buffer.from(j.body, 'base64').toString(), `b${i}`)
  })
})

t.test('inject and a listening server at the same time', async (t) => {
  let app
  const { port } = await listenApp(t, { setup (a) { app = a; a.get('/both', (req) => `both ${req.query.v}`) } })
  const [s, i] = await Promise.all([socketRequest(port, { url: '/both?v=s' }), inj(app, { url: '/both?v=i' })])
  t.equal(s.body, 'both s')
  t.equal(i.body, 'both i')
})

t.test('inject runs the native parser: malformed input gets protocol errors', async (t) => {
  const { App } = salvo()
  const app = new App({ maxUrlLength: 100 })
  app.get('/', () => 'root')
  // inject() itself refuses a header name that is not a token (it could smuggle a second request)...
  await t.rejects(inj(app, { url: '/', headers: { 'bad header': 'x' } }), { code: 'SALVO_ERR_INVALID_ARG' })
  // ...so malformed input the parser refuses is built from valid parts: two Host fields.
  const bad = await inj(app, { url: '/', headers: { Host: ['a.example', 'b.example'] } })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().code, 'SALVO_ERR_BAD_REQUEST')
  const long = await inj(app, { url: '/' + 'x'.repeat(200) })
  t.equal(long.statusCode, 414)
  const ok = await inj(app, { url: '/' })
  t.equal(ok.body, 'root', 'later injects unaffected')
})

t.test('inject of streamed, async and hooked responses', async (t) => {
  const { App } = salvo()
  const app = new App()
  app.addHook('onSend', (req, res, p) => (req.query.wrap ? `[${p}]` : undefined))
  app.get('/stream', async (req, res) => { res.write('a'); await new Promise((resolve) => setTimeout(resolve, 2)); res.end('b') })
  app.get('/async', async () => 'later')
  app.get('/wrapped', () => 'inner')
  t.equal((await inj(app, { url: '/stream' })).body, 'ab')
  t.equal((await inj(app, { url: '/async' })).body, 'later')
  t.equal((await inj(app, { url: '/wrapped?wrap=1' })).body, '[inner]')
})

t.test('wrong arguments to inject reject with SalvoErrors', async (t) => {
  const { App, codes } = salvo()
  const app = makeApp()
  for (const bad of [null, 5, { method: 5 }, { url: 7 }]) {
    let err
    try { await inj(app, bad) } catch (e) { err = e }
    t.ok(err, `inject(${JSON.stringify(bad)}) rejects`)
    t.ok(err && err.code in codes, `a registered code: ${err?.code}`)
  }
  // An app with no routes: inject still answers.
  const empty = new App()
  t.equal((await inj(empty, { url: '/' })).statusCode, 404)
})

t.test('inject without listen(): the Date header is current, not frozen', async (t) => {
  const { App } = salvo()
  const app = new App()
  app.get('/', () => 'x')
  const first = await inj(app, { url: '/' })
  t.ok(first.headers.date, 'Date present')
  await new Promise((resolve) => setTimeout(resolve, 2200))
  const r = await inj(app, { url: '/' })
  const d = Date.parse(r.headers.date)
  t.ok(Math.abs(d - Date.now()) <= 2000, `Date ${r.headers.date} within 2 s of now (${new Date().toUTCString()})`)
  t.ok(d > Date.parse(first.headers.date), 'the Date moved on')
})
