// Signed cookies (issue 11 item 4): the cookieSecret option, res.cookie(..., { signed: true }),
// req.unsignCookie(), res.signCookie(), app.signCookie()/unsignCookie(), key rotation,
// over a real socket on 127.0.0.1 and through inject().

import t from 'tap'
import { createHmac } from 'node:crypto'
import { forBoth, salvo, throwsCode } from './helpers/api.mjs'

const SECRET = 'a-secret-of-32-characters-long!!'
const OLD = 'the-old-secret-0123456789abcdef'

// cookie-signature's format, computed here independently of src/cookie-signing.ts.
const sig = (value, secret) => createHmac('sha256', secret).update(value).digest('base64').replace(/=+$/, '')

/** The value of the first Set-Cookie line, percent-decoded. */
function setCookieValue (res, name) {
  const line = (res.headers['set-cookie'] ?? []).find((l) => l.startsWith(`${name}=`))
  if (line === undefined) return undefined
  return decodeURIComponent(line.slice(name.length + 1).split(';')[0])
}

function routes (app) {
  app.get('/set', (req, res) => {
    res.cookie('session', req.query.v ?? 'user-42', { signed: true, httpOnly: true, path: '/' })
    return 'ok'
  })
  // Echoes what unsignCookie says about the incoming cookie.
  app.get('/check', (req) => req.unsignCookie(req.cookies.session ?? ''))
  app.get('/sign', (req, res) => res.signCookie(req.query.v))
  app.get('/plain', (req, res) => res.cookie('p', 'x', { signed: false }).send('ok'))
}

forBoth(t, 'round trip: signed Set-Cookie, then unsignCookie of it', {
  options: { cookieSecret: SECRET },
  setup: routes,
}, async (t, { request }) => {
  const r = await request({ url: '/set' })
  t.equal(r.statusCode, 200)
  const line = r.headers['set-cookie'][0]
  t.match(line, /; Path=\/; HttpOnly$/, 'the other cookie options still apply')
  const v = setCookieValue(r, 'session')
  t.equal(v, `user-42.${sig('user-42', SECRET)}`, 'value.HMAC-SHA256 base64 without padding (cookie-signature format)')
  t.notMatch(v, /=/, 'no base64 padding')
  const c = await request({ url: '/check', headers: { cookie: `session=${encodeURIComponent(v)}` } })
  t.same(c.json(), { valid: true, renew: false, value: 'user-42' })
  const p = await request({ url: '/plain' })
  t.same(p.headers['set-cookie'], ['p=x'], 'signed: false leaves the value as it is')
})

forBoth(t, 'a value with dots and non-ASCII characters round-trips (split at the last dot)', {
  options: { cookieSecret: SECRET },
  setup: routes,
}, async (t, { request }) => {
  const value = 'a.b.c.d\u00e9'
  const r = await request({ url: `/set?v=${encodeURIComponent(value)}` })
  const v = setCookieValue(r, 'session')
  t.equal(v, `${value}.${sig(value, SECRET)}`)
  const c = await request({ url: '/check', headers: { cookie: `session=${encodeURIComponent(v)}` } })
  t.same(c.json(), { valid: true, renew: false, value })
})

forBoth(t, 'tampered value, tampered or missing signature, wrong secret: not valid', {
  options: { cookieSecret: SECRET },
  setup: routes,
}, async (t, { request }) => {
  const good = `user-42.${sig('user-42', SECRET)}`
  const cases = {
    'tampered value': `user-43.${sig('user-42', SECRET)}`,
    'tampered signature': good.slice(0, -1) + (good.endsWith('A') ? 'B' : 'A'),
    'signature cut short': good.slice(0, -3),
    'signature with padding': good + '=',
    'no signature': 'user-42',
    'empty signature': 'user-42.',
    'signed with another secret': `user-42.${sig('user-42', 'another-secret-that-is-long-enough')}`,
    empty: '',
  }
  for (const [what, cookie] of Object.entries(cases)) {
    const c = await request({ url: '/check', headers: { cookie: `session=${encodeURIComponent(cookie)}` } })
    t.equal(c.statusCode, 200, what)
    t.same(c.json(), { valid: false, renew: false, value: null }, what)
  }
})

forBoth(t, 'key rotation: the first secret signs, older ones verify with renew: true', {
  options: { cookieSecret: [SECRET, OLD] },
  setup: routes,
}, async (t, { request }) => {
  const r = await request({ url: '/set' })
  t.equal(setCookieValue(r, 'session'), `user-42.${sig('user-42', SECRET)}`, 'signed with the first secret')
  const cur = await request({ url: '/check', headers: { cookie: `session=${encodeURIComponent(`u.${sig('u', SECRET)}`)}` } })
  t.same(cur.json(), { valid: true, renew: false, value: 'u' })
  const old = await request({ url: '/check', headers: { cookie: `session=${encodeURIComponent(`u.${sig('u', OLD)}`)}` } })
  t.same(old.json(), { valid: true, renew: true, value: 'u' }, 'an older secret: valid, renew')
  const s = await request({ url: '/sign?v=x.y' })
  t.equal(s.body, `x.y.${sig('x.y', SECRET)}`, 'res.signCookie signs with the first secret')
})

t.test('Buffer secrets sign as their bytes', async (t) => {
  const { App } = salvo()
  const key = Buffer.alloc(32, 7)
  const app = new App({ cookieSecret: key })
  app.get('/', (req, res) => res.cookie('k', 'v', { signed: true }).send('ok'))
  const r = await app.inject({ url: '/' })
  t.equal(setCookieValue(r, 'k'), `v.${sig('v', key)}`)
})

t.test('app.signCookie / app.unsignCookie agree with the request side', async (t) => {
  const { App } = salvo()
  const app = new App({ cookieSecret: [SECRET, OLD] })
  const s = app.signCookie('hello')
  t.equal(s, `hello.${sig('hello', SECRET)}`)
  t.same(app.unsignCookie(s), { valid: true, renew: false, value: 'hello' })
  t.same(app.unsignCookie(`hello.${sig('hello', OLD)}`), { valid: true, renew: true, value: 'hello' })
  t.same(app.unsignCookie('hello.nope'), { valid: false, renew: false, value: null })
  const r1 = app.unsignCookie('x')
  r1.valid = true
  t.same(app.unsignCookie('x'), { valid: false, renew: false, value: null }, 'each result is a fresh object')
  throwsCode(t, () => app.unsignCookie(42), 'SALVO_ERR_INVALID_ARG', 'unsignCookie of a non-string')
  throwsCode(t, () => app.signCookie(42), 'SALVO_ERR_INVALID_ARG', 'signCookie of a non-string')
})

t.test('another app\'s secret does not leak: apps with and without secrets side by side', async (t) => {
  const { App } = salvo()
  const a = new App({ cookieSecret: SECRET })
  const b = new App({ cookieSecret: OLD })
  const plain = new App()
  for (const app of [a, b, plain]) app.get('/', (req, res) => res.cookie('s', 'v', { signed: true }).send('ok'))
  t.equal(setCookieValue(await a.inject({ url: '/' }), 's'), `v.${sig('v', SECRET)}`)
  t.equal(setCookieValue(await b.inject({ url: '/' }), 's'), `v.${sig('v', OLD)}`)
  const p = await plain.inject({ url: '/' })
  t.equal(p.statusCode, 500, 'signing without a secret is a handler error')
  t.equal(p.json().code, 'SALVO_ERR_NO_COOKIE_SECRET')
  t.equal(p.headers['set-cookie'], undefined, 'no cookie sent')
})

forBoth(t, 'no cookieSecret: signed cookies and unsignCookie throw SALVO_ERR_NO_COOKIE_SECRET', {
  setup (app) {
    const code = (fn) => { try { fn(); return 'no error' } catch (err) { return err.code } }
    app.get('/', (req, res) => ({
      cookie: code(() => res.cookie('a', 'b', { signed: true })),
      sign: code(() => res.signCookie('b')),
      unsign: code(() => req.unsignCookie('b.c')),
    }))
  },
}, async (t, { request, app }) => {
  const r = await request({ url: '/' })
  t.same(r.json(), { cookie: 'SALVO_ERR_NO_COOKIE_SECRET', sign: 'SALVO_ERR_NO_COOKIE_SECRET', unsign: 'SALVO_ERR_NO_COOKIE_SECRET' })
  throwsCode(t, () => app.signCookie('x'), 'SALVO_ERR_NO_COOKIE_SECRET', 'app.signCookie')
  throwsCode(t, () => app.unsignCookie('x.y'), 'SALVO_ERR_NO_COOKIE_SECRET', 'app.unsignCookie')
})

t.test('cookieSecret is validated; unknown options stay errors', async (t) => {
  const { App } = salvo()
  for (const [what, v] of [
    ['too short', 'short'],
    ['15 bytes', 'x'.repeat(15)],
    ['empty string', ''],
    ['empty list', []],
    ['a short one in the list', [SECRET, 'short']],
    ['a number', 42],
    ['null', null],
    ['an object', { secret: SECRET }],
    ['a short Buffer', Buffer.alloc(8)],
  ]) {
    throwsCode(t, () => new App({ cookieSecret: v }), 'SALVO_ERR_INVALID_ARG', what)
  }
  t.ok(new App({ cookieSecret: 'x'.repeat(16) }), '16 characters are enough')
  const err = throwsCode(t, () => new App({ cookiesecret: SECRET }), 'SALVO_ERR_INVALID_ARG', 'misspelt option')
  t.match(err?.message, /cookiesecret/)
  const app = new App({ cookieSecret: SECRET })
  app.get('/', (req, res) => res.cookie('a', 'b', { signed: 'yes' }).send('ok'))
  const r = await app.inject({ url: '/' })
  t.equal(r.statusCode, 500)
  t.equal(r.json().code, 'SALVO_ERR_INVALID_ARG', 'signed must be a boolean')
})
