// API spec, "Request" items: method, url, path, query, params, headers, header(),
// cookies, ip, httpVersion, keepAlive, body, text(), json(), form(), chunked bodies,
// maxBodySize (413 before the handler), decorateRequest. Socket and inject.

import t from 'tap'
import { forBoth, listenApp, salvo, buildRequest, throwsCode } from './helpers/api.mjs'
import { RawClient, connect } from './helpers/raw-client.mjs'

const dump = (req) => ({
  method: req.method,
  url: req.url,
  path: req.path,
  query: req.query,
  params: req.params,
  headers: req.headers,
  httpVersion: req.httpVersion,
  keepAlive: req.keepAlive,
  ip: req.ip,
  bodyIsBuffer: Buffer.isBuffer(req.body),
  bodyLength: req.body.length
})

const setupDump = (app) => {
  app.all('/dump', dump)
  app.all('/dump/:a/:b', dump)
  app.get('/hdr', (req) => ({
    lower: req.header('x-multi'),
    upper: req.header('X-MULTI'),
    mixed: req.header('X-Multi'),
    missing: req.header('x-not-there') === undefined,
    ct: req.header('Content-Type')
  }))
  app.get('/cookies', (req) => req.cookies)
  app.get('/hdr-after', (req) => {
    const all = req.headers['x-multi']
    return { all, first: req.header('X-Multi') }
  })
}

forBoth(t, 'method, url, path, query, params', { setup: setupDump }, async (t, { request }) => {
  const r = (await request({ method: 'PATCH', url: '/dump/x%20y/b%2Fc?a=1&b=two+words&a=2&c=%E2%82%AC&empty=&flag', body: '' })).json()
  t.equal(r.method, 'PATCH')
  t.equal(r.url, '/dump/x%20y/b%2Fc?a=1&b=two+words&a=2&c=%E2%82%AC&empty=&flag', 'url is the raw target')
  t.equal(r.path, '/dump/x y/b/c', 'path percent-decoded, no query')
  t.same(r.query, { a: ['1', '2'], b: 'two words', c: '\u20ac', empty: '', flag: '' }, 'query: repeated key -> array, + is space, escapes decoded')
  t.equal(r.params.a, 'x y', 'param decoded')
  const plain = (await request({ url: '/dump' })).json()
  t.same(plain.query, {}, 'no query -> empty object')
  t.equal(plain.path, '/dump')
  t.equal(plain.method, 'GET')
})

forBoth(t, 'headers: lower-case names, repeated joined with ", ", set-cookie an array', { setup: setupDump }, async (t, { request }) => {
  const r = (await request({
    url: '/dump',
    headers: { 'X-Custom-Thing': 'Value One', 'x-rep': ['a', 'b', 'c'], 'Set-Cookie': ['s=1', 't=2'], Accept: 'text/html' }
  })).json()
  t.equal(r.headers['x-custom-thing'], 'Value One', 'name lower-cased, value kept')
  t.notOk('X-Custom-Thing' in r.headers, 'no original-case key')
  t.equal(r.headers['x-rep'], 'a, b, c', 'repeated fields joined')
  t.same(r.headers['set-cookie'], ['s=1', 't=2'], 'set-cookie is an array')
  t.equal(r.headers.accept, 'text/html')
  t.type(r.headers.host, 'string', 'host present')
})

forBoth(t, 'req.header(name): case-insensitive, first value', { setup: setupDump }, async (t, { request }) => {
  const r = (await request({ url: '/hdr', headers: { 'X-Multi': ['first', 'second'], 'content-type': 'text/x' } })).json()
  t.equal(r.lower, 'first')
  t.equal(r.upper, 'first')
  t.equal(r.mixed, 'first')
  t.equal(r.missing, true, 'absent -> undefined')
  t.equal(r.ct, 'text/x')
})

forBoth(t, 'req.header(name) gives the first value also after req.headers was built', { setup: setupDump }, async (t, { request }) => {
  const r = (await request({ url: '/hdr-after', headers: { 'X-Multi': ['first', 'second'] } })).json()
  t.same(r, { all: 'first, second', first: 'first' })
})

forBoth(t, 'req.cookies from the Cookie header', { setup: setupDump }, async (t, { request }) => {
  const r = (await request({ url: '/cookies', headers: { Cookie: 'a=1; b=hello%20world; c="quoted"' } })).json()
  t.equal(r.a, '1')
  t.equal(r.b, 'hello world', 'percent-decoded')
  t.equal(r.c, 'quoted')
  const none = (await request({ url: '/cookies' })).json()
  t.same(none, {}, 'no Cookie header -> empty object')
})

forBoth(t, 'req.ip, req.httpVersion (1.1), req.keepAlive', { setup: setupDump }, async (t, { request, mode }) => {
  const r = (await request({ url: '/dump' })).json()
  t.type(r.ip, 'string', 'ip is a string')
  if (mode === 'socket') {
    t.equal(r.ip, '127.0.0.1', 'peer address')
    t.equal(r.keepAlive, true, 'HTTP/1.1 default keep-alive')
    const c = (await request({ url: '/dump', headers: { Connection: 'close' } })).json()
    t.equal(c.keepAlive, false, 'Connection: close')
  }
  t.equal(r.httpVersion, '1.1')
})

t.test('HTTP/1.0: httpVersion "1.0", keepAlive only with Connection: keep-alive', async (t) => {
  const { port } = await listenApp(t, { setup: setupDump })
  const c = await connect(t, port)
  await c.write(buildRequest({ url: '/dump', version: '1.0' }))
  const { responses } = await c.readUntilClose()
  t.equal(responses.length, 1)
  const r = JSON.parse(responses[0].text)
  t.equal(r.httpVersion, '1.0')
  t.equal(r.keepAlive, false)
  const c2 = await connect(t, port)
  await c2.write(buildRequest({ url: '/dump', version: '1.0', headers: { Connection: 'keep-alive' } }))
  const [r2] = await c2.readResponses(1)
  t.equal(JSON.parse(r2.text).keepAlive, true)
  t.equal(JSON.parse(r2.text).httpVersion, '1.0')
})

const setupBody = (app) => {
  app.post('/body', (req) => ({ isBuffer: Buffer.isBuffer(req.body), len: req.body.length, hex: req.body.toString('hex') }))
  app.get('/body', (req) => ({ isBuffer: Buffer.isBuffer(req.body), len: req.body.length }))
  app.post('/text', async (req) => ({ text: await req.text() }))
  app.post('/json', async (req) => ({ got: await req.json() }))
  app.post('/json-caught', async (req) => {
    try {
      await req.json()
      return { threw: false }
    } catch (err) {
      return { threw: true, code: err.code, statusCode: err.statusCode, name: err.name, isSalvo: err instanceof salvo().SalvoError }
    }
  })
  app.post('/form', async (req) => ({ form: await req.form() }))
  app.post('/form-caught', async (req) => {
    try {
      await req.form()
      return { threw: false }
    } catch (err) {
      return { threw: true, code: err.code, statusCode: err.statusCode }
    }
  })
}

forBoth(t, 'req.body is a Buffer (empty when none)', { setup: setupBody }, async (t, { request }) => {
  const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13])
  const r = (await request({ method: 'POST', url: '/body', body: bytes })).json()
  t.same(r, { isBuffer: true, len: 7, hex: bytes.toString('hex') })
  const e = (await request({ url: '/body' })).json()
  t.same(e, { isBuffer: true, len: 0 }, 'no body -> empty Buffer')
  const e2 = (await request({ method: 'POST', url: '/body', body: '' })).json()
  t.equal(e2.len, 0, 'Content-Length: 0 -> empty Buffer')
  t.equal(e2.isBuffer, true)
})

forBoth(t, 'req.text() decodes UTF-8', { setup: setupBody }, async (t, { request }) => {
  const s = 'h\u00e9llo \u20ac \ud83d\ude00'
  t.equal((await request({ method: 'POST', url: '/text', body: Buffer.from(s, 'utf8') })).json().text, s)
})

forBoth(t, 'req.json(): parsed; invalid JSON rejects with SALVO_ERR_INVALID_JSON (400)', { setup: setupBody }, async (t, { request }) => {
  const ok = await request({ method: 'POST', url: '/json', body: { a: [1, 2], b: 'x' } })
  t.same(ok.json(), { got: { a: [1, 2], b: 'x' } })
  const bad = await request({ method: 'POST', url: '/json', body: '{"a":', headers: { 'content-type': 'application/json' } })
  t.equal(bad.statusCode, 400, 'uncaught invalid JSON -> 400')
  const b = bad.json()
  t.equal(b.code, 'SALVO_ERR_INVALID_JSON')
  t.equal(b.statusCode, 400)
  t.equal(b.error, 'Bad Request')
  t.type(b.message, 'string')
  const caught = (await request({ method: 'POST', url: '/json-caught', body: 'not json' })).json()
  t.same(caught, { threw: true, code: 'SALVO_ERR_INVALID_JSON', statusCode: 400, name: 'SalvoError', isSalvo: true })
})

forBoth(t, 'req.form(): urlencoded like query; other types -> 415 SALVO_ERR_UNSUPPORTED_MEDIA_TYPE', { setup: setupBody }, async (t, { request }) => {
  const r = await request({
    method: 'POST',
    url: '/form',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'a=1&a=2&name=J+Doe&e=%E2%82%AC'
  })
  t.same(r.json(), { form: { a: ['1', '2'], name: 'J Doe', e: '\u20ac' } })
  const cs = await request({
    method: 'POST',
    url: '/form',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: 'k=v'
  })
  t.same(cs.json(), { form: { k: 'v' } }, 'content-type parameters allowed')
  const bad = await request({ method: 'POST', url: '/form', headers: { 'Content-Type': 'application/json' }, body: '{}' })
  t.equal(bad.statusCode, 415)
  t.equal(bad.json().code, 'SALVO_ERR_UNSUPPORTED_MEDIA_TYPE')
  t.equal(bad.json().error, 'Unsupported Media Type')
  const none = await request({ method: 'POST', url: '/form-caught', body: 'a=1' })
  t.same(none.json(), { threw: true, code: 'SALVO_ERR_UNSUPPORTED_MEDIA_TYPE', statusCode: 415 }, 'no content-type -> 415 error')
})

const CHUNKED = '5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\n\r\n'

forBoth(t, 'chunked request bodies are decoded', { setup: setupBody }, async (t, { request }) => {
  const r = await request({ method: 'POST', url: '/text', headers: { 'Transfer-Encoding': 'chunked' }, body: CHUNKED })
  t.equal(r.statusCode, 200)
  t.same(r.json(), { text: 'hello 0123456789' })
})

t.test('chunked request body split across many writes (socket)', async (t) => {
  const { port } = await listenApp(t, { setup: setupBody })
  const c = await connect(t, port)
  const head = 'POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'
  const payload = Buffer.alloc(3000)
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 255
  let wire = head
  const parts = []
  for (let off = 0; off < payload.length; off += 700) {
    const p = payload.subarray(off, off + 700)
    parts.push(Buffer.concat([Buffer.from(p.length.toString(16) + '\r\n'), p, Buffer.from('\r\n')]))
  }
  const all = Buffer.concat([Buffer.from(wire), ...parts, Buffer.from('0\r\n\r\n')])
  wire = null
  for (let off = 0; off < all.length; off += 333) await c.write(all.subarray(off, off + 333))
  const [r] = await c.readResponses(1)
  t.same(JSON.parse(r.text), { isBuffer: true, len: 3000, hex: payload.toString('hex') })
})

forBoth(t, 'body larger than maxBodySize -> 413 before the handler runs', {
  options: { maxBodySize: 1000 },
  setup (app) {
    app.post('/big', (req) => { app.__calls = (app.__calls ?? 0) + 1; return `len=${req.body.length}` })
  }
}, async (t, { request, app, mode }) => {
  const ok = await request({ method: 'POST', url: '/big', body: Buffer.alloc(1000, 1) })
  t.equal(ok.body, 'len=1000', 'exactly maxBodySize is fine')
  const before = app.__calls
  const r = await request({ method: 'POST', url: '/big', body: Buffer.alloc(1001, 1) })
  t.equal(r.statusCode, 413)
  t.equal(r.json().code, 'SALVO_ERR_BODY_TOO_LARGE')
  t.equal(r.json().statusCode, 413)
  t.equal(app.__calls, before, 'handler not run')
  const ch = Buffer.concat([Buffer.from('3e8\r\n'), Buffer.alloc(1000, 2), Buffer.from('\r\n3e8\r\n'), Buffer.alloc(1000, 2), Buffer.from('\r\n0\r\n\r\n')])
  const r2 = await request({ method: 'POST', url: '/big', headers: { 'Transfer-Encoding': 'chunked' }, body: ch })
  t.equal(r2.statusCode, 413, `chunked body over the limit (${mode})`)
  t.equal(app.__calls, before, 'handler not run (chunked)')
})

t.test('413 is sent as soon as Content-Length is seen, and the connection closes', async (t) => {
  const { port } = await listenApp(t, {
    options: { maxBodySize: 1024 },
    setup (app) { app.post('/big', () => 'never') }
  })
  const c = await connect(t, port)
  // Only the head: the server must not wait for 10 MB of body to answer.
  await c.write('POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 10485760\r\n\r\n')
  const { responses } = await c.readUntilClose()
  t.equal(responses.length, 1)
  t.equal(responses[0].status, 413)
  t.equal(JSON.parse(responses[0].text).code, 'SALVO_ERR_BODY_TOO_LARGE')
})

t.test('request stays readable after await, while later pipelined requests reuse buffers', async (t) => {
  const { port } = await listenApp(t, {
    setup (app) {
      app.post('/late/:id', async (req) => {
        await new Promise((resolve) => setTimeout(resolve, 20))
        await new Promise((resolve) => setImmediate(resolve))
        return {
          id: req.params.id,
          q: req.query.q,
          h: req.header('x-tag'),
          hh: req.headers['x-tag'],
          body: req.body.toString(),
          text: await req.text(),
          path: req.path,
          url: req.url,
          method: req.method
        }
      })
      app.post('/sync', (req) => `sync:${req.body.toString()}`)
    }
  })
  const c = await connect(t, port)
  const reqs = []
  const N = 40
  for (let i = 0; i < N; i++) {
    if (i % 3 === 2) reqs.push(buildRequest({ method: 'POST', url: '/sync', body: `s${i}`.repeat(5) }))
    else reqs.push(buildRequest({ method: 'POST', url: `/late/${i}?q=q${i}`, headers: { 'X-Tag': `tag-${i}` }, body: `body-${i}-`.repeat(i + 1) }))
  }
  await c.write(Buffer.concat(reqs))
  // A second batch overwrites the read buffers while the first batch is pending.
  await c.write(Buffer.concat(reqs.slice(0, 10)))
  const rs = await c.readResponses(N + 10, { timeout: 20_000 })
  const idx = [...Array(N).keys(), ...Array(10).keys()]
  idx.forEach((i, k) => {
    const r = rs[k]
    t.equal(r.status, 200, `#${k} status`)
    if (i % 3 === 2) {
      t.equal(r.text, `sync:${`s${i}`.repeat(5)}`, `#${k} sync body`)
    } else {
      t.same(JSON.parse(r.text), {
        id: String(i), q: `q${i}`, h: `tag-${i}`, hh: `tag-${i}`, body: `body-${i}-`.repeat(i + 1), text: `body-${i}-`.repeat(i + 1), path: `/late/${i}`, url: `/late/${i}?q=q${i}`, method: 'POST'
      }, `#${k} everything intact after await`)
    }
  })
})

forBoth(t, 'request readable after await (inject / socket single)', {
  setup (app) {
    app.post('/late/:id', async (req) => {
      await new Promise((resolve) => setTimeout(resolve, 10))
      return { id: req.params.id, q: req.query, body: req.body.toString(), h: req.headers['x-a'] }
    })
  }
}, async (t, { request }) => {
  const rs = await Promise.all([1, 2, 3, 4, 5].map((i) => request({ method: 'POST', url: `/late/${i}?v=${i}`, headers: { 'x-a': `a${i}` }, body: `b${i}` })))
  rs.forEach((r, k) => {
    const i = k + 1
    t.same(r.json(), { id: String(i), q: { v: String(i) }, body: `b${i}`, h: `a${i}` })
  })
})

// ---- decorateRequest ----------------------------------------------------------

forBoth(t, 'decorateRequest: function (this = req), getter (each access), primitive default', {
  setup (app) {
    let n = 0
    app.decorateRequest('whoami', function () { return `I am ${this.method} ${this.path}` })
    app.decorateRequest('counter', { getter: (req) => `${req.path}#${++n}` })
    app.decorateRequest('user', null)
    app.decorateRequest('limit', 10)
    app.decorateRequest('label', 'none')
    app.get('/deco', (req) => {
      const first = req.counter
      const second = req.counter
      const defaults = { user: req.user, limit: req.limit, label: req.label }
      req.user = 'alice' // a default can be overwritten per request
      return { who: req.whoami(), first, second, defaults, user: req.user }
    })
  }
}, async (t, { request }) => {
  const a = (await request({ url: '/deco' })).json()
  t.equal(a.who, 'I am GET /deco')
  t.not(a.first, a.second, 'getter computed on each access')
  t.match(a.first, /^\/deco#\d+$/)
  t.same(a.defaults, { user: null, limit: 10, label: 'none' })
  t.equal(a.user, 'alice')
  const b = (await request({ url: '/deco' })).json()
  t.same(b.defaults, { user: null, limit: 10, label: 'none' }, 'a value set on one request does not leak into the next')
})

t.test('decorateRequest: object/array values and existing names are refused', async (t) => {
  const { App } = salvo()
  const app = new App()
  throwsCode(t, () => app.decorateRequest('obj', { a: 1 }), 'SALVO_ERR_INVALID_ARG', 'object value')
  throwsCode(t, () => app.decorateRequest('arr', [1, 2]), 'SALVO_ERR_INVALID_ARG', 'array value')
  app.decorateRequest('once', 1)
  throwsCode(t, () => app.decorateRequest('once', 2), 'SALVO_ERR_DECORATOR_EXISTS', 'same name twice')
  for (const name of ['method', 'url', 'path', 'query', 'params', 'headers', 'header', 'body', 'json', 'text', 'form', 'cookies', 'ip']) {
    throwsCode(t, () => app.decorateRequest(name, 1), 'SALVO_ERR_DECORATOR_EXISTS', `built-in ${name}`)
  }
})

t.test('decorators are per app', async (t) => {
  const { App } = salvo()
  const a = new App()
  const b = new App()
  a.decorateRequest('onlyA', 'A')
  a.get('/', (req) => String(req.onlyA))
  b.get('/', (req) => String(req.onlyA))
  b.decorateRequest('onlyB', 1)
  t.equal((await a.inject({ url: '/' })).body, 'A')
  t.equal((await b.inject({ url: '/' })).body, 'undefined')
})

t.test('keep-alive connection: many requests, each sees its own fields', async (t) => {
  const { port } = await listenApp(t, { setup: setupDump })
  const c = await RawClient.connect(port)
  t.teardown(() => c.destroy())
  for (let i = 0; i < 5; i++) {
    await c.write(buildRequest({ url: `/dump?i=${i}`, headers: { 'x-i': String(i) } }))
    const [r] = await c.readResponses(1)
    const j = JSON.parse(r.text)
    t.equal(j.query.i, String(i))
    t.equal(j.headers['x-i'], String(i))
  }
})

forBoth(t, 'chunked request body with trailer fields', { setup: setupBody }, async (t, { request }) => {
  const r = await request({ method: 'POST', url: '/text', headers: { 'Transfer-Encoding': 'chunked' }, body: '3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n' })
  t.equal(r.statusCode, 200)
  t.same(r.json(), { text: 'abc' })
})

t.test('Content-Length bodies split across many writes, pipelined', async (t) => {
  const { port } = await listenApp(t, { setup: setupBody })
  const c = await connect(t, port)
  const bodies = [Buffer.alloc(5000, 1), Buffer.alloc(0), Buffer.from('short'), Buffer.alloc(70000, 2)]
  const all = Buffer.concat(bodies.map((b) => buildRequest({ method: 'POST', url: '/body', body: b })))
  for (let off = 0; off < all.length; off += 1400) await c.write(all.subarray(off, off + 1400))
  const rs = await c.readResponses(bodies.length, { timeout: 20_000 })
  rs.forEach((r, i) => t.same(JSON.parse(r.text), { isBuffer: true, len: bodies[i].length, hex: bodies[i].toString('hex') }, `body ${i}`))
})

forBoth(t, 'default maxBodySize is 1 MiB', { setup: setupBody }, async (t, { request }) => {
  const ok = await request({ method: 'POST', url: '/text', body: Buffer.alloc(1024 * 1024, 97) }, { timeout: 30_000 })
  t.equal(ok.statusCode, 200, 'exactly 1 MiB is fine')
  const big = await request({ method: 'POST', url: '/text', body: Buffer.alloc(1024 * 1024 + 1, 97) }, { timeout: 30_000 })
  t.equal(big.statusCode, 413, '1 MiB + 1 is 413')
})

forBoth(t, 'query edge cases: encoded separators, keys without values, __proto__', { setup: setupDump }, async (t, { request }) => {
  const r = (await request({ url: '/dump?a=%26b%3Dc&&k&__proto__=x&constructor=y' })).json()
  t.equal(r.query.a, '&b=c', 'escaped & and = are data')
  t.equal(r.query.k, '', 'key without value')
  t.equal(r.query.__proto__, 'x', '__proto__ is data') // eslint-disable-line no-proto
  t.equal(r.query.constructor, 'y')
})
