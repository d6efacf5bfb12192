// Issue 11 item 4, replies: res.header() sets (replaces), res.headers({...}),
// getHeader/hasHeader/removeHeader (case-insensitive), Set-Cookie accumulates,
// header validation on every path, headers set before a throw stay on the error answer.

import t from 'tap'
import { createRequire } from 'node:module'
import { forBoth, throwsCode } from './helpers/api.mjs'
const require = createRequire(import.meta.url)

forBoth(t, 'header() replaces, Set-Cookie accumulates, headers() sets several', {
  setup (app) {
    app.get('/replace', (req, res) => {
      res.header('X-A', '1')
      res.header('x-a', '2')
      res.header('X-List', ['a', 'b'])
      res.header('X-List', ['c'])
      return 'ok'
    })
    app.get('/cookies', (req, res) => {
      res.cookie('a', '1')
      res.header('Set-Cookie', 'b=2')
      res.cookie('c', '3')
      return 'ok'
    })
    app.get('/many', (req, res) => {
      res.headers({ 'X-One': '1', 'X-Two': 2, 'Content-Type': 'text/html' })
      return '<p>'
    })
    app.get('/get', (req, res) => {
      res.header('X-Mixed-Case', 'v')
      res.cookie('s', 'x')
      res.cookie('t', 'y')
      res.type('text/csv')
      const seen = {
        lower: res.getHeader('x-mixed-case'),
        upper: res.getHeader('X-MIXED-CASE'),
        has: res.hasHeader('x-Mixed-case'),
        missing: res.getHeader('x-none') === undefined && !res.hasHeader('x-none'),
        cookies: res.getHeader('set-cookie'),
        type: res.getHeader('content-type')
      }
      res.removeHeader('X-MIXED-CASE')
      res.removeHeader('x-not-there')
      seen.afterRemove = res.hasHeader('x-mixed-case')
      res.type('application/json')
      return JSON.stringify(seen)
    })
  }
}, async (t, { request }) => {
  const r = await request({ url: '/replace' })
  t.equal(r.headers['x-a'], '2', 'second header() replaced the first')
  t.equal(r.headers['x-list'], 'c', 'a list replaced by a list')
  const c = await request({ url: '/cookies' })
  t.same(c.headers['set-cookie'], ['a=1', 'b=2', 'c=3'], 'cookie() and header(set-cookie) accumulate, in order')
  const m = await request({ url: '/many' })
  t.equal(m.headers['x-one'], '1')
  t.equal(m.headers['x-two'], '2')
  t.equal(m.headers['content-type'], 'text/html')
  const g = await request({ url: '/get' })
  const seen = JSON.parse(g.body)
  t.same(seen, { lower: 'v', upper: 'v', has: true, missing: true, cookies: ['s=x', 't=y'], type: 'text/csv', afterRemove: false })
  t.notOk('x-mixed-case' in g.headers, 'a removed header is not sent')
})

forBoth(t, 'headers set before a throw stay on the error answer (not Content-Type)', {
  setup (app) {
    app.get('/throw', (req, res) => {
      res.header('X-Kept', 'yes').type('text/html').status(201)
      throw Object.assign(new Error('nope'), { statusCode: 409 })
    })
    app.get('/async-throw', async (req, res) => {
      res.header('X-Kept', 'async')
      await null
      throw new Error('boom')
    })
  }
}, async (t, { request }) => {
  const r = await request({ url: '/throw' })
  t.equal(r.statusCode, 409)
  t.equal(r.headers['x-kept'], 'yes')
  t.match(r.headers['content-type'], /^application\/json/, 'the error answer chooses its type')
  t.equal(JSON.parse(r.body).message, 'nope')
  const a = await request({ url: '/async-throw' })
  t.equal(a.statusCode, 500)
  t.equal(a.headers['x-kept'], 'async')
})

forBoth(t, 'validation holds on every path', {
  setup (app) {
    app.get('/bad', (req, res) => {
      const codes = {}
      const attempt = (name, fn) => { try { fn(); codes[name] = 'no throw' } catch (e) { codes[name] = e.code } }
      attempt('crlf', () => res.header('X-A', 'a\r\nX-Evil: 1'))
      attempt('name', () => res.header('Bad Name', 'v'))
      attempt('managed', () => res.header('content-length', '5'))
      attempt('headersCrlf', () => res.headers({ 'X-Ok': 'fine', 'X-B': 'b\nc' }))
      attempt('headersManaged', () => res.headers({ Connection: 'close' }))
      attempt('headersNotObject', () => res.headers(null))
      attempt('wide', () => res.header('X-W', '\u010d\u010a'))
      codes.partial = res.hasHeader('x-ok')
      return codes
    })
  }
}, async (t, { request }) => {
  const r = await request({ url: '/bad' })
  t.same(JSON.parse(r.body), {
    crlf: 'SALVO_ERR_INVALID_HEADER',
    name: 'SALVO_ERR_INVALID_HEADER',
    managed: 'SALVO_ERR_INVALID_HEADER',
    headersCrlf: 'SALVO_ERR_INVALID_HEADER',
    headersManaged: 'SALVO_ERR_INVALID_HEADER',
    headersNotObject: 'SALVO_ERR_INVALID_ARG',
    wide: 'SALVO_ERR_INVALID_HEADER',
    partial: false
  }, 'headers() checks every field before it sets any')
  t.notOk('x-evil' in r.headers)
})

t.test('a sent reply refuses header changes', async (t) => {
  const { Reply } = await import('../dist/index.js').then((m) => m.default ?? m)
  const res = new Reply()
  res.send('x')
  throwsCode(t, () => res.header('X-A', '1'), 'SALVO_ERR_ALREADY_SENT')
  throwsCode(t, () => res.removeHeader('X-A'), 'SALVO_ERR_ALREADY_SENT')
  throwsCode(t, () => res.headers({ 'X-A': '1' }), 'SALVO_ERR_ALREADY_SENT')
})

forBoth(t, 'onSend runs for streamed answers with the stream as payload, and may replace it', {
  setup (app) {
    const { Readable, Transform } = require('node:stream')
    const upper = () => new Transform({ transform (c, e, cb) { cb(null, Buffer.from(String(c).toUpperCase())) } })
    app.addHook('onSend', (req, res, payload) => {
      const isStream = payload !== null && typeof payload === 'object' && typeof payload.pipe === 'function'
      res.header('X-Payload', isStream ? 'stream' : typeof payload)
      if (isStream && req.url === '/upper') return payload.pipe(upper())
      if (isStream && req.url === '/whole') return 'replaced'
      return undefined
    })
    app.get('/returned', () => Readable.from(['ab', 'cd']))
    app.get('/upper', (req, res) => { res.send(Readable.from(['ab', 'cd'])) })
    app.get('/whole', () => Readable.from(['ab']))
    app.get('/text', () => 'plain')
  }
}, async (t, { request }) => {
  const r = await request({ url: '/returned' })
  t.equal(r.headers['x-payload'], 'stream')
  t.equal(r.body, 'abcd')
  const u = await request({ url: '/upper' })
  t.equal(u.headers['x-payload'], 'stream')
  t.equal(u.body, 'ABCD', 'the stream a hook returned is sent')
  const w = await request({ url: '/whole' })
  t.equal(w.body, 'replaced')
  const p = await request({ url: '/text' })
  t.equal(p.headers['x-payload'], 'string')
})
