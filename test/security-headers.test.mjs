// Security audit, what reaches the wire and what the app parses (items 4, 16, 17):
// header injection through res.header/type/redirect/cookie and through inject();
// prototype poisoning through req.json() and req.headers; 5xx bodies leak no error code.
import t from 'tap'
import { connect, get, post } from './helpers/raw-client.mjs'
import { start, salvo, failureOf, withTimeout } from './helpers/security-util.mjs'

const { App, SalvoError } = salvo()
const INVALID = 'SALVO_ERR_INVALID_HEADER'
const safeJson = (s) => { try { return JSON.parse(s) } catch { return undefined } }

// Values that must not reach a header: U+010D U+010A become CR LF in latin1; the rest are
// controls or characters outside HTAB / SP-~ / 0x80-0xFF.
const BAD_VALUES = {
  'U+010D U+010A': 'a\u010d\u010aSet-Cookie: x=1',
  'U+010A alone': 'a\u010aX-Injected: 1',
  'U+010D alone': 'a\u010db',
  CR: 'a\rb',
  LF: 'a\nb',
  CRLF: 'a\r\nSet-Cookie: x=1',
  NUL: 'a\u0000b',
  'U+0001': 'a\u0001b',
  DEL: 'a\u007fb',
  'U+0100': 'a\u0100b',
  'U+2028': 'a\u2028b',
  emoji: 'a\ud83d\ude00b'
}
const BAD_NAMES = ['X A', 'X\r\nY', 'X\u010d\u010aY', '', 'X:A', '(X)', 'X\u00c4']

const cases = []
const expectThrow = (label, fn) => cases.push({ label, fn, want: INVALID })
const expectOk = (label, fn) => cases.push({ label, fn, want: null })
for (const [what, v] of Object.entries(BAD_VALUES)) {
  expectThrow(`header value ${what}`, (res) => res.header('X-A', v))
  expectThrow(`type ${what}`, (res) => res.type('text/plain' + v))
  expectThrow(`redirect ${what}`, (res) => res.redirect('/home' + v))
  expectThrow(`cookie path ${what}`, (res) => res.cookie('n', 'v', { path: '/p' + v }))
  expectThrow(`cookie domain ${what}`, (res) => res.cookie('n', 'v', { domain: 'example.com' + v }))
}
for (const name of BAD_NAMES) expectThrow(`header name ${JSON.stringify(name)}`, (res) => res.header(name, 'v'))
expectThrow('header value undefined', (res) => res.header('X-A', undefined))
expectThrow('header value {}', (res) => res.header('X-A', {}))
// Controls: what stays allowed.
expectOk('plain value', (res) => res.header('X-A', 'plain value'))
expectOk('HTAB and obs-text', (res) => res.header('X-A', 'tab\there caf\u00e9 \u00ff'))
expectOk('number value', (res) => res.header('X-N', 5))
expectOk('type', (res) => res.type('text/html; charset=utf-8'))
expectOk('redirect', (res) => res.redirect('/ok?a=b'))
expectOk('cookie', (res) => res.cookie('n', 'v', { path: '/p', domain: 'example.com' }))

t.test('4: header, type, redirect and cookie reject values and names that would break the head', async (t) => {
  const results = new Map()
  const app = new App()
  app.get('/case/:i', (req, res) => {
    const c = cases[Number(req.params.i)]
    try {
      c.fn(res)
      results.set(c.label, null)
    } catch (e) {
      results.set(c.label, { code: e?.code, name: e?.name, salvo: e instanceof SalvoError })
    }
    if (!res.sent) return 'done'
  })
  for (let i = 0; i < cases.length; i++) {
    await withTimeout(app.inject({ url: `/case/${i}` }), 5000, `case ${i}`).catch(() => {})
  }
  for (const c of cases) {
    const got = results.get(c.label)
    if (c.want === null) {
      t.equal(got, null, `${c.label}: accepted`)
    } else {
      t.ok(got && got.code === c.want && got.salvo, `${c.label}: throws SalvoError ${c.want} at the call (got ${JSON.stringify(got)})`)
    }
  }
})

t.test('4: end to end, a redirect to a URL with U+010D U+010A cannot add a Set-Cookie header', async (t) => {
  const { port } = await start(t, {}, (app) => {
    app.get('/r', (req, res) => res.redirect(req.query.to))
    app.get('/h', (req, res) => { res.header('X-Echo', req.query.v); return 'ok' })
    app.get('/c', (req, res) => { res.cookie('s', 'v', { path: req.query.p }); return 'ok' })
  })
  const attack = '%2Fhome%C4%8D%C4%8ASet-Cookie%3A%20session%3Dattacker'
  for (const target of [`/r?to=${attack}`, `/h?v=${attack}`, `/c?p=${attack}`]) {
    const c = await connect(t, port)
    await c.write(get(target))
    let r
    try {
      [r] = await c.readResponses(1, { timeout: 5000 })
    } catch (e) {
      t.fail(`${target}: ${e.message}`)
      continue
    }
    t.equal(r.status, 500, `${target}: answers 500`)
    t.equal(r.headers['set-cookie'], undefined, `${target}: no Set-Cookie header`)
    t.notOk(r.head.includes('attacker'), `${target}: the value did not reach the head`)
    t.equal(c.peek().rest.length, 0, `${target}: nothing after the response`)
    c.destroy()
  }
})

t.test('4: inject() rejects a url, header or method that would break the request head', async (t) => {
  let smuggled = 0
  const app = new App()
  app.get('/x', () => 'x')
  app.get('/y', () => { smuggled++; return 'y' })
  const bad = {
    'url with CRLF': { url: '/x\r\nGET /y HTTP/1.1' },
    'url with LF': { url: '/x\nGET /y HTTP/1.1' },
    'url with CR': { url: '/x\rGET /y HTTP/1.1' },
    'header value with CRLF': { url: '/x', headers: { 'x-a': 'v\r\nX-Injected: 1' } },
    'header value with LF': { url: '/x', headers: { 'x-a': 'v\nX-Injected: 1' } },
    'header array element with CRLF': { url: '/x', headers: { 'x-a': ['ok', 'v\r\nX-Injected: 1'] } },
    'header name with CRLF': { url: '/x', headers: { 'x-a\r\nx-b': 'v' } },
    'method with a space': { method: 'G T', url: '/x' },
    'method with CRLF': { method: 'GET /y HTTP/1.1\r\nX-A:', url: '/x' },
    'empty method': { method: '', url: '/x' }
  }
  for (const [what, opts] of Object.entries(bad)) {
    const err = await failureOf(() => app.inject(opts), 5000)
    t.equal(err?.code, 'SALVO_ERR_INVALID_ARG', `${what}: rejects SALVO_ERR_INVALID_ARG (got ${err ? err.code ?? err.message : 'a response'})`)
  }
  // U+010D U+010A would become CR LF in latin1: either rejected, or never a second request.
  const r = await withTimeout(Promise.resolve().then(() => app.inject({ url: '/x\u010d\u010aGET /y HTTP/1.1' })), 5000, 'inject').then((v) => v, (e) => e)
  t.ok(r?.code === 'SALVO_ERR_INVALID_ARG' || r?.statusCode === 400, `url with U+010D U+010A: rejected or 400 (got ${r?.code ?? r?.statusCode})`)
  t.equal(smuggled, 0, 'no smuggled request reached /y')
  const ok = await withTimeout(app.inject({ url: '/x', headers: { 'x-a': 'fine' } }), 5000, 'inject')
  t.equal(ok.statusCode, 200, 'a clean inject still works')
})

t.test('16: req.json() rejects prototype poisoning with 400 SALVO_ERR_PROTO_POISONING', async (t) => {
  const { port } = await start(t, {}, (app) => {
    app.post('/j', async (req) => {
      const v = await req.json()
      return { own: Object.keys(v), polluted: ({}).polluted ?? null }
    })
  })
  const bodies = [
    '{"__proto__":{"polluted":1}}',
    '{"a":{"constructor":{"prototype":{"polluted":1}}}}',
    '{"list":[{"__proto__":{"polluted":1}}]}'
  ]
  for (const body of bodies) {
    const c = await connect(t, port)
    await c.write(post('/j', body, { headers: { 'Content-Type': 'application/json' } }))
    const [r] = await c.readResponses(1, { timeout: 5000 })
    t.equal(r.status, 400, `${body}: 400`)
    t.equal(safeJson(r.text)?.code, 'SALVO_ERR_PROTO_POISONING', `${body}: code`)
    c.destroy()
  }
  t.equal(({}).polluted, undefined, 'Object.prototype was not polluted')
})

t.test('16: onProtoPoisoning / onConstructorPoisoning "ignore" accept them (no pollution)', async (t) => {
  let app
  try {
    app = new App({ onProtoPoisoning: 'ignore', onConstructorPoisoning: 'ignore' })
  } catch (e) {
    t.fail(`the options are accepted (${e.code}: ${e.message})`)
    return
  }
  app.post('/j', async (req) => {
    const v = await req.json()
    return { ownProto: Object.hasOwn(v, '__proto__'), keys: Object.keys(v), polluted: ({}).polluted ?? null }
  })
  const r1 = await withTimeout(app.inject({ method: 'POST', url: '/j', body: '{"__proto__":{"polluted":1}}', headers: { 'content-type': 'application/json' } }), 5000, 'inject')
  t.equal(r1.statusCode, 200)
  t.same(safeJson(r1.body), { ownProto: true, keys: ['__proto__'], polluted: null }, 'an own "__proto__" key, nothing polluted')
  const r2 = await withTimeout(app.inject({ method: 'POST', url: '/j', body: '{"a":{"constructor":{"prototype":{"polluted":1}}}}', headers: { 'content-type': 'application/json' } }), 5000, 'inject')
  t.equal(r2.statusCode, 200)
  t.same(safeJson(r2.body)?.keys, ['a'])
  t.equal(({}).polluted, undefined, 'Object.prototype was not polluted')
})

t.test('16: req.headers has a null prototype', async (t) => {
  const { port } = await start(t, {}, (app) => {
    app.get('/h', (req) => ({
      nullProto: Object.getPrototypeOf(req.headers) === null,
      ctor: typeof req.headers.constructor === 'string' ? req.headers.constructor : typeof req.headers.constructor,
      toStr: typeof req.headers.toString
    }))
  })
  const c = await connect(t, port)
  await c.write(get('/h', { headers: { Constructor: 'evil' } }))
  const [r] = await c.readResponses(1)
  t.same(safeJson(r.text), { nullProto: true, ctor: 'evil', toStr: 'undefined' }, 'null prototype: a "constructor" field is just a field')
})

t.test('17: a 5xx body never carries the code or message of an arbitrary error', async (t) => {
  const { port } = await start(t, {}, (app) => {
    app.get('/pg', () => { throw Object.assign(new Error('db'), { code: '23505' }) })
    app.get('/enoent', () => { throw Object.assign(new Error('db'), { code: 'ENOENT' }) })
    app.get('/object', () => { throw { code: 'ENOENT', message: 'db' } }) // eslint-disable-line no-throw-literal
    app.get('/async-pg', async () => { throw Object.assign(new Error('db'), { code: '23505' }) })
    app.get('/503', () => { throw Object.assign(new Error('db'), { statusCode: 503, code: 'E_UPSTREAM' }) })
    app.get('/conflict', () => { throw Object.assign(new Error('taken'), { statusCode: 409, code: 'E_CONFLICT' }) })
    app.get('/number', () => 42)
  })
  const leaks = { '/pg': [500, '23505'], '/enoent': [500, 'ENOENT'], '/object': [500, 'ENOENT'], '/async-pg': [500, '23505'], '/503': [503, 'E_UPSTREAM'] }
  const c = await connect(t, port)
  for (const [path, [status, code]] of Object.entries(leaks)) {
    await c.write(get(path))
    const [r] = await c.readResponses(1, { timeout: 5000 })
    const body = safeJson(r.text)
    t.equal(r.status, status, `${path}: ${status}`)
    t.notOk(r.text.includes(code), `${path}: no ${code} in the body (${r.text})`)
    t.equal(body?.code, undefined, `${path}: no code field`)
    t.not(body?.message, 'db', `${path}: no message (debug off)`)
  }
  // SalvoError codes and 4xx codes still show (these work today).
  await c.write(Buffer.concat([get('/nope'), get('/conflict'), get('/number')]))
  const [nf, conflict, num] = await c.readResponses(3, { timeout: 5000 })
  t.equal(nf.status, 404)
  t.equal(safeJson(nf.text)?.code, 'SALVO_ERR_NOT_FOUND', '404 shows SALVO_ERR_NOT_FOUND')
  t.equal(conflict.status, 409)
  t.equal(safeJson(conflict.text)?.code, 'E_CONFLICT', 'a 4xx shows its code')
  t.equal(num.status, 500)
  t.equal(safeJson(num.text)?.code, 'SALVO_ERR_RESPONSE_TYPE', 'a salvo 5xx shows its code')
})
