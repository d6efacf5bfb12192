// API spec, "Errors": codes of errors thrown for wrong API calls; the exported `codes`
// registry against docs/ERRORS.md (both directions); 404/405 bodies; protocol errors
// as canned JSON (connection closes after them), over a socket and through inject().

import t from 'tap'
import { readFileSync, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { forBoth, listenApp, salvo, throwsCode, buildRequest, withTimeout, IMF } from './helpers/api.mjs'
import { connect } from './helpers/raw-client.mjs'

const ERRORS_MD = fileURLToPath(new URL('../docs/ERRORS.md', import.meta.url))

t.test('codes registry is exported and consistent', async (t) => {
  const { codes, SalvoError } = salvo()
  t.type(codes, 'object')
  const keys = Object.keys(codes)
  t.ok(keys.length > 0, 'non-empty')
  for (const k of keys) {
    t.match(k, /^SALVO_ERR_[A-Z0-9_]+$/, `${k}: name`)
    const v = codes[k]
    const code = typeof v === 'string' ? v : v?.code
    t.equal(code, k, `${k}: entry names its own code`)
    const e = new SalvoError(k)
    t.equal(e.code, k, `${k}: new SalvoError(code).code`)
    t.type(e.statusCode, 'number', `${k}: statusCode`)
    t.ok(e instanceof Error, `${k}: is an Error`)
  }
  for (const needed of [
    'SALVO_ERR_ROUTE_DUPLICATE', 'SALVO_ERR_ROUTE_INVALID', 'SALVO_ERR_INVALID_ARG', 'SALVO_ERR_ALREADY_STARTED',
    'SALVO_ERR_DECORATOR_EXISTS', 'SALVO_ERR_INVALID_JSON', 'SALVO_ERR_UNSUPPORTED_MEDIA_TYPE', 'SALVO_ERR_INVALID_STATUS',
    'SALVO_ERR_INVALID_HEADER', 'SALVO_ERR_ALREADY_SENT', 'SALVO_ERR_NOT_FOUND', 'SALVO_ERR_METHOD_NOT_ALLOWED',
    'SALVO_ERR_BAD_REQUEST', 'SALVO_ERR_BODY_TOO_LARGE', 'SALVO_ERR_URI_TOO_LONG', 'SALVO_ERR_EXPECTATION_FAILED',
    'SALVO_ERR_HEADERS_TOO_LARGE', 'SALVO_ERR_NOT_IMPLEMENTED', 'SALVO_ERR_HTTP_VERSION'
  ]) t.ok(needed in codes, `registry has ${needed} (named by the spec)`)
})

t.test('every code in `codes` is in docs/ERRORS.md and vice versa', async (t) => {
  const { codes } = salvo()
  t.ok(existsSync(ERRORS_MD), 'docs/ERRORS.md exists')
  if (!existsSync(ERRORS_MD)) return
  const md = readFileSync(ERRORS_MD, 'utf8')
  const inDoc = new Set(md.match(/SALVO_ERR_[A-Z0-9_]+/g) ?? [])
  const inCode = new Set(Object.keys(codes))
  const missingInDoc = [...inCode].filter((c) => !inDoc.has(c))
  const unknownInDoc = [...inDoc].filter((c) => !inCode.has(c))
  t.same(missingInDoc, [], 'codes not documented in docs/ERRORS.md')
  t.same(unknownInDoc, [], 'codes documented but not in the registry')
})

t.test('wrong API calls throw SalvoErrors with stable codes', async (t) => {
  const { App, Reply } = salvo()
  const app = new App()
  app.get('/dup', () => 'x')
  throwsCode(t, () => app.get('/dup', () => 'y'), 'SALVO_ERR_ROUTE_DUPLICATE', 'same method+path twice')
  app.route({ method: ['POST'], url: '/dup2', handler: () => 'x' })
  throwsCode(t, () => app.post('/dup2', () => 'y'), 'SALVO_ERR_ROUTE_DUPLICATE', 'duplicate across route() and post()')
  throwsCode(t, () => app.route({ method: ['PUT', 'PUT'], url: '/dup3', handler: () => 'x' }), 'SALVO_ERR_ROUTE_DUPLICATE', 'duplicate inside one route()')
  app.get('/param/:a', () => 'x')
  throwsCode(t, () => app.get('/param/:a', () => 'y'), 'SALVO_ERR_ROUTE_DUPLICATE', 'duplicate param route')
  t.doesNotThrow(() => app.post('/dup', () => 'p'), 'same path under another method is fine')

  for (const bad of ['nope', 'a/b', '', 'users/:id', '*']) {
    throwsCode(t, () => app.get(bad, () => 'x'), 'SALVO_ERR_ROUTE_INVALID', `path ${JSON.stringify(bad)}`)
  }

  for (const h of ['string', 42, null, undefined, {}]) {
    throwsCode(t, () => app.get('/h', h), 'SALVO_ERR_INVALID_ARG', `handler ${String(h)}`)
  }
  throwsCode(t, () => app.get('/h2', {}, 'not a function'), 'SALVO_ERR_INVALID_ARG', 'handler after options')
  throwsCode(t, () => app.route({ method: 'GET', url: '/h3', handler: 1 }), 'SALVO_ERR_INVALID_ARG', 'route() handler')
  throwsCode(t, () => app.addHook('onNope', () => {}), 'SALVO_ERR_INVALID_ARG', 'unknown hook name')
  throwsCode(t, () => app.addHook('onrequest', () => {}), 'SALVO_ERR_INVALID_ARG', 'hook names are case-sensitive')
  throwsCode(t, () => app.decorateRequest('o', { shared: true }), 'SALVO_ERR_INVALID_ARG', 'object decorator')
  throwsCode(t, () => app.decorateRequest('a', []), 'SALVO_ERR_INVALID_ARG', 'array decorator')
  app.decorateRequest('d1', 1)
  throwsCode(t, () => app.decorateRequest('d1', 2), 'SALVO_ERR_DECORATOR_EXISTS', 'decorator twice')

  const res = new Reply()
  throwsCode(t, () => res.status(1000), 'SALVO_ERR_INVALID_STATUS')
  throwsCode(t, () => res.header('a b', 'x'), 'SALVO_ERR_INVALID_HEADER')
  throwsCode(t, () => res.header('x', 'a\nb'), 'SALVO_ERR_INVALID_HEADER')
  res.send('one')
  throwsCode(t, () => res.send('two'), 'SALVO_ERR_ALREADY_SENT')
})

t.test('errors for non-functions given as hooks, handlers of setErrorHandler/setNotFoundHandler', async (t) => {
  const { App, codes } = salvo()
  const app = new App()
  for (const [what, fn] of [
    ['addHook fn', () => app.addHook('onRequest', 'x')],
    ['setErrorHandler', () => app.setErrorHandler(null)],
    ['setNotFoundHandler', () => app.setNotFoundHandler(5)]
  ]) {
    let err
    try { fn() } catch (e) { err = e }
    t.ok(err, `${what} throws`)
    t.ok(err && err.code in codes, `${what}: a registered code (${err?.code})`)
  }
})

for (const start of ['listen', 'inject']) {
  t.test(`adding routes/hooks/decorators after ${start}() throws SALVO_ERR_ALREADY_STARTED`, async (t) => {
    const { App } = salvo()
    const app = new App()
    app.get('/', () => 'x')
    if (start === 'listen') {
      const server = await withTimeout(app.listen({ port: 0, host: '127.0.0.1' }), 10_000, 'listen')
      t.teardown(() => withTimeout(Promise.resolve(server.close({ timeout: 500 })), 10_000, 'close').catch(() => {}))
    } else {
      await withTimeout(app.inject({ url: '/' }), 10_000, 'inject')
    }
    for (const m of ['get', 'head', 'post', 'put', 'patch', 'delete', 'options', 'all']) {
      throwsCode(t, () => app[m]('/late', () => 'x'), 'SALVO_ERR_ALREADY_STARTED', `app.${m}()`)
    }
    throwsCode(t, () => app.route({ method: 'GET', url: '/late2', handler: () => 'x' }), 'SALVO_ERR_ALREADY_STARTED', 'route()')
    for (const h of ['onRequest', 'preHandler', 'onSend', 'onResponse', 'onError']) {
      throwsCode(t, () => app.addHook(h, () => {}), 'SALVO_ERR_ALREADY_STARTED', `addHook(${h})`)
    }
    throwsCode(t, () => app.decorateRequest('late', 1), 'SALVO_ERR_ALREADY_STARTED', 'decorateRequest')
    // The app still answers.
    t.equal((await withTimeout(app.inject({ url: '/' }), 10_000, 'inject')).body, 'x')
  })
}

forBoth(t, '404 and 405 bodies', {
  setup (app) {
    app.get('/there', () => 'x')
    app.post('/there', () => 'y')
  }
}, async (t, { request }) => {
  const nf = await request({ url: '/not/there?x=1' })
  t.equal(nf.statusCode, 404)
  t.equal(nf.statusMessage, 'Not Found')
  t.match(nf.headers['content-type'], /^application\/json; charset=utf-8$/i)
  const b = nf.json()
  t.same(Object.keys(b).sort(), ['code', 'error', 'message', 'statusCode'], 'exactly the documented keys')
  t.equal(b.statusCode, 404)
  t.equal(b.code, 'SALVO_ERR_NOT_FOUND')
  t.equal(b.error, 'Not Found')
  t.type(b.message, 'string')
  t.equal(nf.headers['content-length'], String(nf.rawBody.length))

  const na = await request({ method: 'PUT', url: '/there', body: 'z' })
  t.equal(na.statusCode, 405)
  t.equal(na.statusMessage, 'Method Not Allowed')
  const c = na.json()
  t.same(Object.keys(c).sort(), ['code', 'error', 'message', 'statusCode'])
  t.equal(c.statusCode, 405)
  t.equal(c.code, 'SALVO_ERR_METHOD_NOT_ALLOWED')
  t.equal(c.error, 'Method Not Allowed')
  t.type(na.headers.allow, 'string')
})

forBoth(t, 'a handler returning something that is not a body answers 500 with a registered code', {
  setup (app) {
    app.get('/num', () => 42)
    app.get('/bool', () => true)
    app.get('/fn', () => () => 1)
  }
}, async (t, { request }) => {
  const { codes } = salvo()
  for (const url of ['/num', '/bool', '/fn']) {
    const r = await request({ url })
    t.equal(r.statusCode, 500, `${url}: 500`)
    const b = r.json()
    t.equal(b.statusCode, 500)
    t.ok(typeof b.code === 'string' && b.code in codes, `${url}: code ${b.code} is registered`)
  }
})

// ---- protocol errors: canned JSON, then the connection closes ---------------------

const SMALL = { maxBodySize: 1000, maxUrlLength: 200, maxHeaderBytes: 2048, maxHeaders: 20 }

function protocolCases () {
  return [
    { name: 'garbage request line', wire: 'THIS IS NOT HTTP\r\n\r\n', status: 400, code: 'SALVO_ERR_BAD_REQUEST' },
    { name: 'bad header name', wire: 'GET / HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n', status: 400, code: 'SALVO_ERR_BAD_REQUEST' },
    { name: 'Content-Length and Transfer-Encoding', wire: 'POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', status: 400, code: 'SALVO_ERR_BAD_REQUEST' },
    { name: 'body over maxBodySize', wire: `POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n${'x'.repeat(1001)}`, status: 413, code: 'SALVO_ERR_BODY_TOO_LARGE' },
    { name: 'target over maxUrlLength', wire: `GET /${'a'.repeat(300)} HTTP/1.1\r\nHost: x\r\n\r\n`, status: 414, code: 'SALVO_ERR_URI_TOO_LONG' },
    { name: 'unsupported Expect', wire: 'POST /p HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\nContent-Length: 1\r\n\r\nx', status: 417, code: 'SALVO_ERR_EXPECTATION_FAILED' },
    { name: 'head over maxHeaderBytes', wire: `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(3000)}\r\n\r\n`, status: 431, code: 'SALVO_ERR_HEADERS_TOO_LARGE' },
    { name: 'more than maxHeaders fields', wire: `GET / HTTP/1.1\r\nHost: x\r\n${[...Array(30).keys()].map((i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`, status: 431, code: 'SALVO_ERR_HEADERS_TOO_LARGE' },
    { name: 'unknown Transfer-Encoding', wire: 'POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', status: 501, code: 'SALVO_ERR_NOT_IMPLEMENTED' },
    { name: 'HTTP/2.0 request line', wire: 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', status: 505, code: 'SALVO_ERR_HTTP_VERSION' },
    { name: 'HTTP/3.1 request line', wire: 'GET / HTTP/3.1\r\nHost: x\r\n\r\n', status: 505, code: 'SALVO_ERR_HTTP_VERSION' },
    { name: 'HTTP/0.9 request line', wire: 'GET / HTTP/0.9\r\nHost: x\r\n\r\n', status: 505, code: 'SALVO_ERR_HTTP_VERSION', alt: [400] }
  ]
}

t.test('protocol errors over a socket: canned JSON in the error shape, then close', async (t) => {
  const { port } = await listenApp(t, {
    options: SMALL,
    setup (app) {
      app.get('/', () => 'root')
      app.post('/p', (req) => `len=${req.body.length}`)
    }
  })
  for (const c of protocolCases()) {
    const cl = await connect(t, port)
    await cl.write(c.wire)
    // Requests sent after the bad one must not be answered.
    cl.write(buildRequest({ url: '/' })).catch(() => {})
    let out
    try {
      out = await cl.readUntilClose({ timeout: 10_000 })
    } catch (err) {
      t.fail(`${c.name}: ${err.message}`)
      continue
    }
    const { responses } = out
    t.equal(responses.length, 1, `${c.name}: exactly one response, then close`)
    const r = responses[0]
    if (!r) continue
    const ok = r.status === c.status || (c.alt ?? []).includes(r.status)
    t.ok(ok, `${c.name}: status ${r.status} (want ${c.status})`)
    if (r.status !== c.status) continue
    t.match(r.headers['content-type'], /^application\/json/i, `${c.name}: JSON`)
    let b = {}
    try { b = JSON.parse(r.text) } catch { t.fail(`${c.name}: body is not JSON: ${r.text}`) }
    t.equal(b.statusCode, c.status, `${c.name}: body.statusCode`)
    t.equal(b.code, c.code, `${c.name}: body.code`)
    t.equal(b.error, r.reason, `${c.name}: body.error is the reason phrase`)
    t.type(b.message, 'string', `${c.name}: body.message`)
    t.equal(r.headers['content-length'], String(r.body.length), `${c.name}: Content-Length`)
    t.match(r.headers.connection ?? '', /close/i, `${c.name}: Connection: close`)
    t.match(r.headers.date ?? '', IMF, `${c.name}: Date`)
  }
})

t.test('Expect: 100-continue is not an error', async (t) => {
  const { port } = await listenApp(t, { options: SMALL, setup (app) { app.post('/p', (req) => `len=${req.body.length}`) } })
  const c = await connect(t, port)
  await c.write('POST /p HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n')
  await c._waitFor(() => (c.buf.length > 0 || c.ended ? true : undefined), 10_000, 'interim or final answer')
  await c.write('abc')
  const [first] = await c.readResponses(1)
  let final = first
  if (first.status === 100) [final] = await c.readResponses(1)
  t.equal(final.status, 200)
  t.equal(final.text, 'len=3')
})

forBoth(t, 'protocol errors through inject: same codes', {
  options: SMALL,
  setup (app) {
    app.get('/', () => 'root')
    app.post('/p', (req) => `len=${req.body.length}`)
  }
}, async (t, { request }) => {
  const cases = [
    { o: { method: 'POST', url: '/p', body: 'x'.repeat(1001) }, status: 413, code: 'SALVO_ERR_BODY_TOO_LARGE' },
    { o: { url: '/' + 'a'.repeat(300) }, status: 414, code: 'SALVO_ERR_URI_TOO_LONG' },
    { o: { method: 'POST', url: '/p', headers: { Expect: 'nope' }, body: 'x' }, status: 417, code: 'SALVO_ERR_EXPECTATION_FAILED' },
    { o: { url: '/', headers: { 'X-Big': 'b'.repeat(3000) } }, status: 431, code: 'SALVO_ERR_HEADERS_TOO_LARGE' },
    { o: { url: '/', headers: Object.fromEntries([...Array(30).keys()].map((i) => [`x-h${i}`, 'v'])) }, status: 431, code: 'SALVO_ERR_HEADERS_TOO_LARGE' },
    { o: { method: 'POST', url: '/p', headers: { 'Transfer-Encoding': 'gzip, chunked' }, body: '0\r\n\r\n' }, status: 501, code: 'SALVO_ERR_NOT_IMPLEMENTED' },
    // Two Host fields (RFC 9112 3.2): inject refuses bad names itself, so the parser's 400 comes from this.
    { o: { url: '/', headers: { Host: ['a.example', 'b.example'] } }, status: 400, code: 'SALVO_ERR_BAD_REQUEST' }
  ]
  for (const c of cases) {
    const r = await request(c.o)
    t.equal(r.statusCode, c.status, `${c.code}: status`)
    let b = {}
    try { b = r.json() } catch { t.fail(`${c.code}: body not JSON: ${r.body}`) }
    t.same({ statusCode: b.statusCode, code: b.code, error: b.error }, { statusCode: c.status, code: c.code, error: r.statusMessage }, `${c.code}: body`)
  }
  t.equal((await request({ url: '/' })).body, 'root', 'still answering')
})
