// API spec, "Handler results" and "Reply (res)" items: conversions of returned values,
// status/header/type/cookie/clearCookie/send/json/redirect, res.sent, sending twice,
// Date + Content-Length, reason phrases, HEAD, large bodies (streaming: api-response-stream.test.mjs).

import t from 'tap'
import { STATUS_CODES } from 'node:http'
import { forBoth, listenApp, salvo, buildRequest, throwsCode, delay, IMF } from './helpers/api.mjs'
import { connect } from './helpers/raw-client.mjs'
import { patternChunk, MB } from './helpers/pattern.mjs'

const TEXT = /^text\/plain; charset=utf-8$/i
const JSONT = /^application\/json; charset=utf-8$/i

forBoth(t, 'returned values: string, Buffer, Uint8Array, object, array, null', {
  setup (app) {
    app.get('/string', () => 'h\u00e9llo')
    app.get('/buffer', () => Buffer.from([1, 2, 3, 250]))
    app.get('/u8', () => new Uint8Array([9, 8, 7]))
    app.get('/object', () => ({ a: 1, nested: { b: [true, null] } }))
    app.get('/array', () => [1, 'two', { three: 3 }])
    app.get('/null', () => null)
    app.get('/empty', () => '')
  }
}, async (t, { request }) => {
  const s = await request({ url: '/string' })
  t.equal(s.statusCode, 200)
  t.match(s.headers['content-type'], TEXT)
  t.equal(s.body, 'h\u00e9llo')
  t.equal(s.headers['content-length'], String(Buffer.byteLength('h\u00e9llo')), 'Content-Length in bytes')
  const b = await request({ url: '/buffer' })
  t.equal(b.headers['content-type'], 'application/octet-stream')
  t.same([...b.rawBody], [1, 2, 3, 250])
  t.equal(b.headers['content-length'], '4')
  const u = await request({ url: '/u8' })
  t.equal(u.headers['content-type'], 'application/octet-stream')
  t.same([...u.rawBody], [9, 8, 7])
  const o = await request({ url: '/object' })
  t.match(o.headers['content-type'], JSONT)
  t.same(o.json(), { a: 1, nested: { b: [true, null] } })
  const a = await request({ url: '/array' })
  t.match(a.headers['content-type'], JSONT)
  t.same(a.json(), [1, 'two', { three: 3 }])
  const n = await request({ url: '/null' })
  t.equal(n.statusCode, 204)
  t.equal(n.statusMessage, 'No Content')
  t.equal(n.rawBody.length, 0, 'no body')
  t.notOk('transfer-encoding' in n.headers, '204 not chunked')
  t.ok(n.headers['content-length'] === undefined || n.headers['content-length'] === '0', '204: no (or zero) Content-Length')
  const e = await request({ url: '/empty' })
  t.equal(e.statusCode, 200)
  t.equal(e.headers['content-length'], '0')
  t.equal(e.body, '')
})

forBoth(t, 'returned Promises of each kind', {
  setup (app) {
    const later = (v) => new Promise((resolve) => setTimeout(() => resolve(v), 5))
    app.get('/p/string', () => later('later string'))
    app.get('/p/buffer', () => later(Buffer.from('bytes')))
    app.get('/p/object', async () => { await delay(2); return { ok: true } })
    app.get('/p/null', () => later(null))
    app.get('/p/status', async (req, res) => { await delay(1); res.status(202); return 'accepted' })
  }
}, async (t, { request }) => {
  const s = await request({ url: '/p/string' })
  t.equal(s.body, 'later string')
  t.match(s.headers['content-type'], TEXT)
  const b = await request({ url: '/p/buffer' })
  t.equal(b.body, 'bytes')
  t.equal(b.headers['content-type'], 'application/octet-stream')
  const o = await request({ url: '/p/object' })
  t.same(o.json(), { ok: true })
  t.match(o.headers['content-type'], JSONT)
  const n = await request({ url: '/p/null' })
  t.equal(n.statusCode, 204)
  t.equal(n.rawBody.length, 0)
  const st = await request({ url: '/p/status' })
  t.equal(st.statusCode, 202)
  t.equal(st.body, 'accepted')
})

forBoth(t, 'undefined: the response is whatever res sends, now or later (callback style)', {
  setup (app) {
    app.get('/cb/now', (req, res) => { res.send('sent now') })
    app.get('/cb/later', (req, res) => { setTimeout(() => res.status(201).send({ later: true }), 10) })
    app.get('/cb/immediate', (req, res) => { setImmediate(() => res.send(Buffer.from('imm'))) })
    app.get('/cb/async-undefined', async (req, res) => { await delay(1); setTimeout(() => res.send('after resolve'), 5) })
  }
}, async (t, { request }) => {
  t.equal((await request({ url: '/cb/now' })).body, 'sent now')
  const l = await request({ url: '/cb/later' })
  t.equal(l.statusCode, 201)
  t.same(l.json(), { later: true })
  t.equal((await request({ url: '/cb/immediate' })).body, 'imm')
  t.equal((await request({ url: '/cb/async-undefined' })).body, 'after resolve', 'a Promise of undefined: callback style too')
})

forBoth(t, 'res.status() applies to a returned value; res.type() overrides Content-Type', {
  setup (app) {
    app.get('/st', (req, res) => { res.status(201); return { created: 1 } })
    app.get('/st-text', (req, res) => { res.status(418); return 'teapot' })
    app.get('/type-json', (req, res) => { res.type('application/vnd.api+json'); return { a: 1 } })
    app.get('/type-text', (req, res) => { res.type('text/html; charset=utf-8'); return '<b>x</b>' })
    app.get('/type-buf', (req, res) => { res.type('image/png'); return Buffer.from([137, 80]) })
    app.get('/chain', (req, res) => {
      const r1 = res.status(203)
      const r2 = res.header('X-One', '1')
      const r3 = res.type('text/plain')
      const r4 = res.cookie('c', 'v')
      const r5 = res.clearCookie('d')
      return [r1, r2, r3, r4, r5].every((r) => r === res) ? 'all chain' : 'no chain'
    })
  }
}, async (t, { request }) => {
  const a = await request({ url: '/st' })
  t.equal(a.statusCode, 201)
  t.equal(a.statusMessage, 'Created')
  t.same(a.json(), { created: 1 })
  const b = await request({ url: '/st-text' })
  t.equal(b.statusCode, 418)
  t.equal(b.statusMessage, STATUS_CODES[418])
  t.equal(b.body, 'teapot')
  const c = await request({ url: '/type-json' })
  t.equal(c.headers['content-type'], 'application/vnd.api+json')
  t.same(c.json(), { a: 1 })
  t.equal((await request({ url: '/type-text' })).headers['content-type'], 'text/html; charset=utf-8')
  t.equal((await request({ url: '/type-buf' })).headers['content-type'], 'image/png')
  const ch = await request({ url: '/chain' })
  t.equal(ch.body, 'all chain', 'status/header/type/cookie/clearCookie return res')
  t.equal(ch.statusCode, 203)
  t.equal(ch.headers['x-one'], '1')
  t.equal(ch.headers['content-type'], 'text/plain')
  t.equal(ch.headers['set-cookie'].length, 2, 'two Set-Cookie lines')
})

t.test('res.status(): integers 100-599 only, else SALVO_ERR_INVALID_STATUS', async (t) => {
  const { Reply } = salvo()
  const res = new Reply()
  for (const bad of [99, 600, 0, -200, 200.5, NaN, Infinity, '200', null, undefined]) {
    throwsCode(t, () => res.status(bad), 'SALVO_ERR_INVALID_STATUS', `status(${String(bad)})`)
  }
  for (const good of [100, 200, 299, 599]) t.equal(res.status(good), res, `status(${good}) ok`)
})

t.test('res.header(): invalid names and CR/LF/NUL values -> SALVO_ERR_INVALID_HEADER', async (t) => {
  const { Reply } = salvo()
  const res = new Reply()
  for (const name of ['', 'bad name', 'bad:name', 'x\r\ny', 'caf\u00e9', '(paren)', 'a@b']) {
    throwsCode(t, () => res.header(name, 'v'), 'SALVO_ERR_INVALID_HEADER', `name ${JSON.stringify(name)}`)
  }
  for (const value of ['a\rb', 'a\nb', 'a\r\nX-Injected: 1', 'nul\0byte']) {
    throwsCode(t, () => res.header('X-Ok', value), 'SALVO_ERR_INVALID_HEADER', `value ${JSON.stringify(value)}`)
  }
  t.equal(res.header("X-Fine_!#$%&'*+-.^`|~", 'any visible text, tabs\tand spaces'), res, 'token names and normal values ok')
})

forBoth(t, 'res.header() values arrive; invalid ones thrown inside a handler become 500', {
  setup (app) {
    app.get('/h', (req, res) => { res.header('X-Custom', 'v1').header('X-Num', 42); return 'ok' })
    app.get('/h-bad', (req, res) => { res.header('X-Evil', 'a\r\nSet-Cookie: pwned=1'); return 'ok' })
  }
}, async (t, { request }) => {
  const r = await request({ url: '/h' })
  t.equal(r.headers['x-custom'], 'v1')
  t.equal(r.headers['x-num'], '42')
  const b = await request({ url: '/h-bad' })
  t.equal(b.statusCode, 500)
  t.notOk(b.headers['set-cookie'], 'no header injection')
  t.notOk(b.headers['x-evil'])
})

forBoth(t, 'res.cookie() and res.clearCookie()', {
  setup (app) {
    app.get('/cookie', (req, res) => {
      res.cookie('plain', 'v')
      res.cookie('enc', 'a b;c=d,\u00e9')
      res.cookie('full', 'x', { maxAge: 3600, expires: new Date(Date.UTC(2030, 0, 2, 3, 4, 5)), path: '/p', domain: 'example.com', secure: true, httpOnly: true, sameSite: 'Strict' })
      res.cookie('lax', '1', { sameSite: 'Lax' })
      res.cookie('none', '1', { sameSite: 'None', secure: true })
      return 'cookies'
    })
    app.get('/clear', (req, res) => { res.clearCookie('gone', { path: '/p', domain: 'example.com' }); return 'cleared' })
  }
}, async (t, { request }) => {
  const r = await request({ url: '/cookie' })
  const sc = r.headers['set-cookie']
  t.ok(Array.isArray(sc) && sc.length === 5, `five Set-Cookie fields: ${JSON.stringify(sc)}`)
  const by = Object.fromEntries(sc.map((c) => [c.slice(0, c.indexOf('=')), c]))
  t.match(by.plain, /^plain=v(;|$)/)
  t.equal(by.enc.split(';')[0], `enc=${encodeURIComponent('a b;c=d,\u00e9')}`, 'value percent-encoded')
  const attrs = by.full.split(/;\s*/)
  t.equal(attrs[0], 'full=x')
  t.ok(attrs.includes('Max-Age=3600'), 'Max-Age in seconds')
  t.ok(attrs.includes('Expires=Wed, 02 Jan 2030 03:04:05 GMT'), `Expires as HTTP date: ${by.full}`)
  t.ok(attrs.includes('Path=/p'))
  t.ok(attrs.includes('Domain=example.com'))
  t.ok(attrs.includes('Secure'))
  t.ok(attrs.includes('HttpOnly'))
  t.ok(attrs.includes('SameSite=Strict'))
  t.ok(by.lax.split(/;\s*/).includes('SameSite=Lax'))
  t.ok(by.none.split(/;\s*/).includes('SameSite=None'))
  t.notOk(/HttpOnly|Secure|Max-Age|Expires/.test(by.plain), 'no attributes unless asked')

  const c = await request({ url: '/clear' })
  const cc = c.headers['set-cookie']
  t.equal(cc.length, 1)
  const ca = cc[0].split(/;\s*/)
  t.match(ca[0], /^gone=$/, 'empty value')
  t.ok(ca.includes('Max-Age=0'), 'Max-Age=0')
  const exp = ca.find((a) => a.startsWith('Expires='))
  t.ok(exp, 'Expires present')
  t.ok(exp && Date.parse(exp.slice(8)) < Date.now(), 'Expires in the past')
  t.ok(ca.includes('Path=/p'))
  t.ok(ca.includes('Domain=example.com'))
})

forBoth(t, 'res.send() conversions, res.json(), res.redirect()', {
  setup (app) {
    app.get('/send/string', (req, res) => res.send('s'))
    app.get('/send/buffer', (req, res) => res.send(Buffer.from('b')))
    app.get('/send/object', (req, res) => res.send({ o: 1 }))
    app.get('/send/null', (req, res) => res.send(null))
    app.get('/json/string', (req, res) => res.json('just a string'))
    app.get('/json/array', (req, res) => res.json([1, 2]))
    app.get('/json/number', (req, res) => res.json(42))
    app.get('/redirect', (req, res) => res.redirect('/elsewhere?x=1'))
    app.get('/redirect301', (req, res) => res.redirect('https://example.com/', 301))
    app.get('/redirect-async', async (req, res) => { await delay(1); res.redirect('/a', 307) })
  }
}, async (t, { request }) => {
  const s = await request({ url: '/send/string' })
  t.equal(s.body, 's')
  t.match(s.headers['content-type'], TEXT)
  const b = await request({ url: '/send/buffer' })
  t.equal(b.headers['content-type'], 'application/octet-stream')
  const o = await request({ url: '/send/object' })
  t.same(o.json(), { o: 1 })
  t.match(o.headers['content-type'], JSONT)
  t.equal((await request({ url: '/send/null' })).statusCode, 204)
  const js = await request({ url: '/json/string' })
  t.equal(js.body, '"just a string"', 'res.json() of a string is JSON')
  t.match(js.headers['content-type'], JSONT)
  t.equal((await request({ url: '/json/array' })).body, '[1,2]')
  t.equal((await request({ url: '/json/number' })).body, '42')
  const r = await request({ url: '/redirect' })
  t.equal(r.statusCode, 302)
  t.equal(r.statusMessage, 'Found')
  t.equal(r.headers.location, '/elsewhere?x=1')
  t.equal(r.body, '', 'empty body')
  t.equal(r.headers['content-length'], '0')
  const r3 = await request({ url: '/redirect301' })
  t.equal(r3.statusCode, 301)
  t.equal(r3.headers.location, 'https://example.com/')
  const r7 = await request({ url: '/redirect-async' })
  t.equal(r7.statusCode, 307)
  t.equal(r7.headers.location, '/a')
})

const SECOND = {
  send: (res) => res.send('second'),
  json: (res) => res.json({ x: 1 }),
  redirect: (res) => res.redirect('/x'),
  end: (res) => res.end('more'),
  write: (res) => res.write('more')
}

forBoth(t, 'res.sent, and sending twice throws SALVO_ERR_ALREADY_SENT without changing the first answer', {
  setup (app) {
    app.__seen = {}
    for (const [name, fn] of Object.entries(SECOND)) {
      app.get(`/twice/${name}`, (req, res) => {
        const seen = { before: res.sent }
        res.send('first')
        seen.after = res.sent
        try { fn(res); seen.code = 'no throw' } catch (err) { seen.code = err.code }
        app.__seen[name] = seen
      })
    }
    app.get('/twice-stream', (req, res) => {
      res.write('a')
      const seen = { afterWrite: res.sent }
      res.end('b')
      try { res.end() } catch (err) { seen.end = err.code }
      try { res.write('c') } catch (err) { seen.write = err.code }
      try { res.send('d') } catch (err) { seen.send = err.code }
      app.__seen2 = seen
    })
  }
}, async (t, { request, app }) => {
  for (const name of Object.keys(SECOND)) {
    const r = await request({ url: `/twice/${name}` })
    t.same(app.__seen[name], { before: false, after: true, code: 'SALVO_ERR_ALREADY_SENT' }, `res.${name}() after send throws`)
    t.equal(r.statusCode, 200, `res.${name}() after send: status of the first answer`)
    t.equal(r.body, 'first', `res.${name}() after send: body of the first answer`)
    t.match(r.headers['content-type'], TEXT, `res.${name}() after send: type of the first answer`)
    t.notOk('location' in r.headers, `res.${name}() after send: no Location added`)
  }
  const s = await request({ url: '/twice-stream' })
  t.equal(s.body, 'ab')
  t.same(app.__seen2, { afterWrite: true, end: 'SALVO_ERR_ALREADY_SENT', write: 'SALVO_ERR_ALREADY_SENT', send: 'SALVO_ERR_ALREADY_SENT' })
})

forBoth(t, 'every fixed-length response has Date and Content-Length', {
  setup (app) {
    app.get('/k/string', () => 'x')
    app.get('/k/buffer', () => Buffer.alloc(100000, 1))
    app.get('/k/json', () => ({}))
    app.get('/k/status', (req, res) => { res.status(404); return 'nope' })
    app.get('/k/redirect', (req, res) => res.redirect('/'))
    app.get('/k/throw', () => { throw new Error('boom') })
    app.get('/k/async', async () => 'a')
    app.post('/k/post', () => 'p')
  }
}, async (t, { request }) => {
  const cases = [
    { url: '/k/string' }, { url: '/k/buffer' }, { url: '/k/json' }, { url: '/k/status' }, { url: '/k/redirect' },
    { url: '/k/throw' }, { url: '/k/async' }, { url: '/k/missing' }, { method: 'PUT', url: '/k/post', body: 'x' },
    { method: 'HEAD', url: '/k/string' }
  ]
  for (const c of cases) {
    const r = await request(c)
    t.match(r.headers.date, IMF, `${c.method ?? 'GET'} ${c.url}: Date (${r.statusCode})`)
    t.match(r.headers['content-length'], /^\d+$/, `${c.method ?? 'GET'} ${c.url}: Content-Length`)
    if (c.method !== 'HEAD') t.equal(Number(r.headers['content-length']), r.rawBody.length, `${c.url}: Content-Length matches`)
    t.notOk('transfer-encoding' in r.headers, `${c.url}: not chunked`)
  }
})

// Reason phrases: all of node's STATUS_CODES from 200 (1xx cannot be final answers), and 'Unknown' otherwise.
const codesToTry = []
for (let s = 200; s <= 599; s++) codesToTry.push(s)

t.test('reason phrases for every status 200-599 (socket, pipelined)', async (t) => {
  const { port } = await listenApp(t, {
    setup (app) { app.get('/status/:code', (req, res) => { res.status(Number(req.params.code)); return 'x' }) }
  })
  const c = await connect(t, port)
  await c.write(Buffer.concat(codesToTry.map((s) => buildRequest({ url: `/status/${s}` }))))
  const rs = await c.readResponses(codesToTry.length, { timeout: 20_000 })
  let bad = 0
  rs.forEach((r, i) => {
    const s = codesToTry[i]
    const want = STATUS_CODES[s] ?? 'Unknown'
    if (r.status !== s || r.reason !== want) {
      bad++
      t.fail(`status ${s}: got "${r.statusLine}", want "HTTP/1.1 ${s} ${want}"`)
    }
  })
  t.equal(bad, 0, `${codesToTry.length} statuses with their reason phrase`)
})

t.test('reason phrases for every status 200-599 (inject)', async (t) => {
  const { App } = salvo()
  const app = new App()
  app.get('/status/:code', (req, res) => { res.status(Number(req.params.code)); return 'x' })
  let bad = 0
  for (const s of codesToTry) {
    const r = await app.inject({ url: `/status/${s}` })
    const want = STATUS_CODES[s] ?? 'Unknown'
    if (r.statusCode !== s || r.statusMessage !== want) {
      bad++
      t.fail(`status ${s}: got ${r.statusCode} "${r.statusMessage}", want "${want}"`)
    }
  }
  t.equal(bad, 0)
})

forBoth(t, 'HEAD of a GET route that answers null, a redirect or an error', {
  setup (app) {
    app.get('/hn', () => null)
    app.get('/hr', (req, res) => res.redirect('/x'))
    app.get('/he', () => { const e = new Error('x'); e.statusCode = 409; throw e })
  }
}, async (t, { request, mode }) => {
  const n = await request({ method: 'HEAD', url: '/hn' })
  t.equal(n.statusCode, 204)
  const r = await request({ method: 'HEAD', url: '/hr' })
  t.equal(r.statusCode, 302)
  t.equal(r.headers.location, '/x')
  const e = await request({ method: 'HEAD', url: '/he' })
  t.equal(e.statusCode, 409)
  t.equal(e.body, '', 'no body')
  if (mode === 'socket') t.equal(e.extraBytes, 0, 'nothing after the head')
  t.match(e.headers['content-length'], /^[1-9]\d*$/, 'Content-Length of the JSON error body')
})

forBoth(t, 'large fixed-length bodies (past the output arena) and typed-array views', {
  setup (app) {
    const big = patternChunk(0, 6 * MB)
    app.get('/bigbuf', () => big)
    app.get('/bigstr', () => 'x'.repeat(5 * MB) + '\u00e9')
    app.get('/view', () => {
      const ab = new ArrayBuffer(64)
      const all = new Uint8Array(ab)
      for (let i = 0; i < 64; i++) all[i] = i
      return new Uint8Array(ab, 10, 5)
    })
    app.get('/bufslice', () => Buffer.from('0123456789abcdef').subarray(4, 9))
  }
}, async (t, { request }) => {
  const b = await request({ url: '/bigbuf' }, { timeout: 30_000 })
  t.equal(b.rawBody.length, 6 * MB)
  t.equal(b.headers['content-length'], String(6 * MB))
  t.ok(b.rawBody.equals(patternChunk(0, 6 * MB)), 'bytes intact')
  const s = await request({ url: '/bigstr' }, { timeout: 30_000 })
  t.equal(s.rawBody.length, 5 * MB + 2)
  t.equal(s.headers['content-length'], String(5 * MB + 2))
  t.ok(s.body.endsWith('x\u00e9') && s.body.length === 5 * MB + 1, 'string intact')
  t.same([...(await request({ url: '/view' })).rawBody], [10, 11, 12, 13, 14], 'a view sends only its own bytes')
  t.equal((await request({ url: '/bufslice' })).body, '45678')
})
