// Issue 11, item 3 (bodies): app.addContentTypeParser() with fastify's semantics: parsers by
// media type, list, RegExp or '*'; sync, async and done-callback parsers; parseAs; the
// built-in JSON and text parsers (overridable); has/remove/removeAll; encapsulated in plugins;
// 415 SALVO_ERR_UNSUPPORTED_MEDIA_TYPE with no parser; 400 SALVO_ERR_BODY_PARSE when one throws;
// parsing before validation.  Each behaviour over a real socket and through inject().

import t from 'tap'
import { forBoth, salvo, throwsCode } from './helpers/api.mjs'

const describe = (req) => ({
  kind: Buffer.isBuffer(req.body) ? 'buffer' : typeof req.body,
  body: Buffer.isBuffer(req.body) ? req.body.toString('latin1') : req.body,
})

forBoth(t, 'built in: JSON and text/plain parsed; other types keep the raw Buffer; GET bodies are not parsed', {
  setup (app) {
    app.post('/b', (req) => describe(req))
    app.put('/b', (req) => describe(req))
    app.get('/b', (req) => describe(req))
  },
}, async (t, { request }) => {
  let r = await request({ method: 'POST', url: '/b', headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"a":[1,2]}' })
  t.same(r.json(), { kind: 'object', body: { a: [1, 2] } })
  r = await request({ method: 'PUT', url: '/b', headers: { 'content-type': 'application/vnd.api+json' }, body: '[3]' })
  t.same(r.json(), { kind: 'object', body: [3] }, '+json suffix takes the JSON parser')
  r = await request({ method: 'POST', url: '/b', headers: { 'content-type': 'Text/Plain; charset=utf-8' }, body: 'h\u00e9' })
  t.same(r.json(), { kind: 'string', body: 'h\u00e9' }, 'media type case-insensitive; UTF-8 decoded')
  r = await request({ method: 'POST', url: '/b', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0x41, 0xff]) })
  t.same(r.json(), { kind: 'buffer', body: 'A\u00ff' })
  r = await request({ method: 'POST', url: '/b', body: 'no type' })
  t.same(r.json(), { kind: 'buffer', body: 'no type' }, 'no Content-Type: the raw catch-all')
  r = await request({ method: 'GET', url: '/b', headers: { 'content-type': 'application/json' }, body: '{bad' })
  t.same(r.json(), { kind: 'buffer', body: '{bad' }, 'GET body not parsed')
  r = await request({ method: 'POST', url: '/b', headers: { 'content-type': 'application/json' }, body: '{bad' })
  t.equal(r.statusCode, 400)
  t.equal(r.json().code, 'SALVO_ERR_INVALID_JSON')
  r = await request({ method: 'POST', url: '/b', headers: { 'content-type': 'application/json' }, body: '{"__proto__":{"x":1}}' })
  t.equal(r.json().code, 'SALVO_ERR_PROTO_POISONING', 'the app poisoning policy applies')
  r = await request({ method: 'POST', url: '/b', headers: { 'content-type': 'application/json' } })
  t.same(r.json(), { kind: 'buffer', body: '' }, 'an empty body is not parsed')
})

forBoth(t, 'custom parsers: string, list, RegExp, sync/async/done, parseAs', {
  setup (app) {
    app.addContentTypeParser('application/x-upper', (req, body) => body.toString('latin1').toUpperCase())
    app.addContentTypeParser(['application/x-a', 'application/x-b'], { parseAs: 'string' }, async (req, body) => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      return { async: body }
    })
    app.addContentTypeParser(/^application\/x-rx-/, { parseAs: 'string' }, (req, body, done) => {
      setImmediate(() => done(null, { rx: body, type: req.headers['content-type'] }))
    })
    app.addContentTypeParser('application/x-len', (req, body) => ({ isBuffer: Buffer.isBuffer(body), n: body.length }))
    app.post('/p', (req) => describe(req))
  },
}, async (t, { request }) => {
  let r = await request({ method: 'POST', url: '/p', headers: { 'content-type': 'application/x-upper' }, body: 'abc' })
  t.same(r.json(), { kind: 'string', body: 'ABC' })
  for (const type of ['application/x-a', 'application/x-b; q=1']) {
    r = await request({ method: 'POST', url: '/p', headers: { 'content-type': type }, body: 'z\u00e9' })
    t.same(r.json(), { kind: 'object', body: { async: 'z\u00e9' } }, `async parser for ${type}`)
  }
  r = await request({ method: 'POST', url: '/p', headers: { 'content-type': 'application/x-rx-1' }, body: 'q' })
  t.same(r.json(), { kind: 'object', body: { rx: 'q', type: 'application/x-rx-1' } }, 'RegExp + done callback')
  r = await request({ method: 'POST', url: '/p', headers: { 'content-type': 'application/x-len' }, body: Buffer.alloc(300, 1) })
  t.same(r.json(), { kind: 'object', body: { isBuffer: true, n: 300 } }, "parseAs default: 'buffer'")
})

forBoth(t, 'a throwing parser answers 400 SALVO_ERR_BODY_PARSE with its message; its own 4xx status is kept', {
  setup (app) {
    app.addContentTypeParser('application/x-throw', () => { throw new Error('bad thing') })
    app.addContentTypeParser('application/x-reject', async () => { throw new TypeError('rejected thing') })
    app.addContentTypeParser('application/x-done', (req, body, done) => done(new Error('done thing')))
    app.addContentTypeParser('application/x-422', () => { throw Object.assign(new Error('mine'), { statusCode: 422, code: 'MY_CODE' }) })
    app.post('/p', () => 'handler ran')
  },
}, async (t, { request }) => {
  for (const [type, msg] of [['application/x-throw', 'bad thing'], ['application/x-reject', 'rejected thing'], ['application/x-done', 'done thing']]) {
    const r = await request({ method: 'POST', url: '/p', headers: { 'content-type': type }, body: 'x' })
    t.equal(r.statusCode, 400, type)
    t.equal(r.json().code, 'SALVO_ERR_BODY_PARSE')
    t.match(r.json().message, msg)
  }
  const r = await request({ method: 'POST', url: '/p', headers: { 'content-type': 'application/x-422' }, body: 'x' })
  t.equal(r.statusCode, 422)
  t.equal(r.json().code, 'MY_CODE')
})

forBoth(t, "overriding JSON; '*' catch-all; remove; removeAll gives 415", {
  setup (app) {
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body) => ({ mine: body }))
    app.post('/p', (req) => describe(req))
    app.register(async (c) => {
      c.addContentTypeParser('*', (req, body) => `any:${body.length}`)
      c.post('/p', (req) => describe(req))
    }, { prefix: '/star' })
    app.register(async (c) => {
      c.removeContentTypeParser('text/plain')
      c.post('/p', (req) => describe(req))
    }, { prefix: '/notext' })
    app.register(async (c) => {
      c.removeAllContentTypeParsers()
      c.addContentTypeParser('application/x-only', (req, body) => 'only')
      c.post('/p', (req) => describe(req))
      c.put('/p', { schema: { body: { type: 'string' } } }, (req) => describe(req))
    }, { prefix: '/strict' })
  },
}, async (t, { request }) => {
  let r = await request({ method: 'POST', url: '/p', headers: { 'content-type': 'application/json' }, body: '{not json' })
  t.same(r.json(), { kind: 'object', body: { mine: '{not json' } }, 'the built-in JSON parser replaced')
  r = await request({ method: 'POST', url: '/star/p', headers: { 'content-type': 'image/png' }, body: 'abcd' })
  t.same(r.json(), { kind: 'string', body: 'any:4' }, "'*' takes unmatched types")
  r = await request({ method: 'POST', url: '/star/p', body: 'abcde' })
  t.same(r.json(), { kind: 'string', body: 'any:5' }, "'*' takes a body without Content-Type")
  r = await request({ method: 'POST', url: '/star/p', headers: { 'content-type': 'text/plain' }, body: 'tx' })
  t.same(r.json(), { kind: 'string', body: 'tx' }, 'exact types still win over *')
  r = await request({ method: 'POST', url: '/notext/p', headers: { 'content-type': 'text/plain' }, body: 'tx' })
  t.same(r.json(), { kind: 'buffer', body: 'tx' }, 'removed text/plain: the raw catch-all')
  for (const headers of [{ 'content-type': 'application/json' }, { 'content-type': 'text/plain' }, {}]) {
    r = await request({ method: 'POST', url: '/strict/p', headers, body: '{}' })
    t.equal(r.statusCode, 415, `strict ${JSON.stringify(headers)}`)
    t.equal(r.json().code, 'SALVO_ERR_UNSUPPORTED_MEDIA_TYPE')
  }
  r = await request({ method: 'POST', url: '/strict/p', headers: { 'content-type': 'application/x-only' }, body: 'x' })
  t.same(r.json(), { kind: 'string', body: 'only' })
  r = await request({ method: 'PUT', url: '/strict/p', headers: { 'content-type': 'application/x-only' }, body: 'x' })
  t.same(r.json(), { kind: 'string', body: 'only' }, 'schema.body validates the parsed value')
  r = await request({ method: 'POST', url: '/strict/p' })
  t.equal(r.statusCode, 200, 'no body: no parser needed')
})

forBoth(t, 'encapsulated: a plugin parser applies to its routes and children only; fp() shares it', {
  setup (app) {
    const { fp } = salvo()
    app.post('/root', (req) => describe(req))
    app.register(async (c) => {
      c.addContentTypeParser('application/x-p', (req, body) => 'parsed-by-plugin')
      c.post('/in', (req) => describe(req))
      c.register(async (cc) => {
        cc.post('/child', (req) => describe(req))
      })
    }, { prefix: '/p' })
    app.register(async (c) => {
      c.post('/in', (req) => describe(req))
    }, { prefix: '/sibling' })
    app.register(fp(async (c) => {
      c.addContentTypeParser('application/x-shared', (req, body) => 'shared')
    }))
  },
}, async (t, { request }) => {
  const h = { 'content-type': 'application/x-p' }
  t.same((await request({ method: 'POST', url: '/p/in', headers: h, body: 'x' })).json(), { kind: 'string', body: 'parsed-by-plugin' })
  t.same((await request({ method: 'POST', url: '/p/child', headers: h, body: 'x' })).json(), { kind: 'string', body: 'parsed-by-plugin' }, 'child plugin inherits')
  t.same((await request({ method: 'POST', url: '/root', headers: h, body: 'x' })).json(), { kind: 'buffer', body: 'x' }, 'parent does not see it')
  t.same((await request({ method: 'POST', url: '/sibling/in', headers: h, body: 'x' })).json(), { kind: 'buffer', body: 'x' }, 'sibling does not see it')
  const s = { 'content-type': 'application/x-shared' }
  t.same((await request({ method: 'POST', url: '/root', headers: s, body: 'x' })).json(), { kind: 'string', body: 'shared' }, 'fp() plugin adds to the parent')
})

forBoth(t, 'order: onRequest sees the raw body, preHandler and validation the parsed one; parser runs once', {
  setup (app) {
    let calls = 0
    app.addContentTypeParser('application/x-num', { parseAs: 'string' }, (req, body) => { calls++; return { n: body } })
    app.addHook('onRequest', (req) => { req.seenRaw = Buffer.isBuffer(req.body) })
    app.addHook('preHandler', (req) => { req.seenParsed = req.body })
    app.post('/v', { schema: { body: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] } } }, (req) => ({
      raw: req.seenRaw, pre: req.seenParsed, body: req.body, calls,
    }))
  },
}, async (t, { request }) => {
  let r = await request({ method: 'POST', url: '/v', headers: { 'content-type': 'application/x-num' }, body: '42' })
  t.same(r.json(), { raw: true, pre: { n: 42 }, body: { n: 42 }, calls: 1 }, 'validated (coerced) after parsing')
  r = await request({ method: 'POST', url: '/v', headers: { 'content-type': 'application/x-num' }, body: 'x' })
  t.equal(r.statusCode, 400)
  t.equal(r.json().code, 'SALVO_ERR_VALIDATION')
  r = await request({ method: 'POST', url: '/v', headers: { 'content-type': 'application/octet-stream' }, body: 'x' })
  t.equal(r.statusCode, 415, 'schema.body and only the raw catch-all: 415')
})

forBoth(t, 'requests do not share parsed bodies (pipelined / concurrent)', {
  setup (app) {
    app.addContentTypeParser('application/x-id', { parseAs: 'string' }, async (req, body) => ({ id: body }))
    app.post('/id', async (req) => {
      await new Promise((resolve) => setTimeout(resolve, Number(req.body.id) % 3))
      return req.body
    })
  },
}, async (t, { request }) => {
  const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => request({ method: 'POST', url: '/id', headers: { 'content-type': 'application/x-id' }, body: String(i) })))
  t.same(rs.map((r) => r.json().id), Array.from({ length: 20 }, (_, i) => String(i)))
})

t.test('API misuse throws SALVO_ERR_* codes', async (t) => {
  const { App } = salvo()
  const app = new App()
  throwsCode(t, () => app.addContentTypeParser('application/json'), 'SALVO_ERR_INVALID_ARG', 'no parser')
  throwsCode(t, () => app.addContentTypeParser(42, () => 1), 'SALVO_ERR_INVALID_ARG', 'bad type')
  throwsCode(t, () => app.addContentTypeParser('not a type', () => 1), 'SALVO_ERR_INVALID_ARG', 'not a media type')
  throwsCode(t, () => app.addContentTypeParser('text/html; charset=utf-8', () => 1), 'SALVO_ERR_INVALID_ARG', 'parameters')
  throwsCode(t, () => app.addContentTypeParser([], () => 1), 'SALVO_ERR_INVALID_ARG', 'empty list')
  throwsCode(t, () => app.addContentTypeParser('a/b', { parseAs: 'json' }, () => 1), 'SALVO_ERR_INVALID_ARG', 'parseAs')
  throwsCode(t, () => app.addContentTypeParser('a/b', { parseas: 'string' }, () => 1), 'SALVO_ERR_INVALID_ARG', 'unknown option')
  throwsCode(t, () => app.addContentTypeParser('a/b', { bodyLimit: 0 }, () => 1), 'SALVO_ERR_INVALID_ARG', 'bodyLimit')
  throwsCode(t, () => app.addContentTypeParser('a/b', { bodyLimit: 2 * 1024 * 1024 }, () => 1), 'SALVO_ERR_INVALID_ARG', 'bodyLimit > maxBodySize')
  app.addContentTypeParser(['a/b', /^x\//], () => 1)
  throwsCode(t, () => app.addContentTypeParser('A/B', () => 2), 'SALVO_ERR_CONTENT_TYPE_PARSER_EXISTS', 'twice')
  throwsCode(t, () => app.addContentTypeParser(/^x\//, () => 2), 'SALVO_ERR_CONTENT_TYPE_PARSER_EXISTS', 'same RegExp twice')
  t.ok(app.hasContentTypeParser('a/b'))
  t.ok(app.hasContentTypeParser(/^x\//))
  t.notOk(app.hasContentTypeParser(/^y\//))
  t.ok(app.hasContentTypeParser('application/json'), 'built in')
  t.ok(app.hasContentTypeParser('text/plain'), 'built in')
  t.ok(app.hasContentTypeParser('*'), 'raw catch-all built in')
  app.removeContentTypeParser(['a/b', /^x\//])
  t.notOk(app.hasContentTypeParser('a/b'))
  t.notOk(app.hasContentTypeParser(/^x\//))
  app.addContentTypeParser('a/b', () => 3) // allowed again after removal
  app.removeAllContentTypeParsers()
  t.notOk(app.hasContentTypeParser('application/json'))
  t.notOk(app.hasContentTypeParser('*'))
  app.post('/', () => 'x')
  await app.ready()
  throwsCode(t, () => app.addContentTypeParser('c/d', () => 1), 'SALVO_ERR_ALREADY_STARTED', 'after start')
  throwsCode(t, () => app.removeContentTypeParser('c/d'), 'SALVO_ERR_ALREADY_STARTED', 'remove after start')
})

// The body step keeps the last request's Content-Type value and parser and compares the next
// request's value with it byte for byte (no string made): requests of one pipelined batch that
// alternate types, spell the same type or the field's name differently, or drop the field must
// each get the parser of their own Content-Type (a repeated Content-Type is the addon's 400).
t.test('pipelined requests with changing Content-Type each get their own parser', async (t) => {
  const { listenApp } = await import('./helpers/api.mjs')
  const { connect, post } = await import('./helpers/raw-client.mjs')
  const { port } = await listenApp(t, {
    setup (app) {
      app.addContentTypeParser('application/x-tag', { parseAs: 'string' }, (req, body) => 'tag:' + body)
      app.post('/d', (req) => describe(req))
    },
  })
  const sends = [
    [{ 'Content-Type': 'application/json' }, '{"a":1}', { kind: 'object', body: { a: 1 } }],
    [{ 'Content-Type': 'application/json' }, '{"a":2}', { kind: 'object', body: { a: 2 } }],
    [{ 'Content-Type': 'text/plain' }, '{"a":3}', { kind: 'string', body: '{"a":3}' }],
    [{ 'Content-Type': 'application/jsoN' }, '{"a":4}', { kind: 'object', body: { a: 4 } }],
    [{ 'content-type': 'application/x-tag' }, 'x', { kind: 'string', body: 'tag:x' }],
    [{ 'CONTENT-TYPE': 'application/x-tag' }, 'y', { kind: 'string', body: 'tag:y' }],
    [{ 'Content-Type': 'application/x-tagz' }, 'z', { kind: 'buffer', body: 'z' }],
    [{}, '{"a":5}', { kind: 'buffer', body: '{"a":5}' }],
    [{ 'Content-Type': 'text/plain', 'X-Content-Type': 'application/json' }, 'w', { kind: 'string', body: 'w' }],
    [{ 'Content-Typ': 'application/json' }, '{"a":6}', { kind: 'buffer', body: '{"a":6}' }],
  ]
  const c = await connect(t, port)
  await c.write(Buffer.concat(sends.map(([h, b]) => post('/d', b, { headers: h }))))
  const rs = await c.readResponses(sends.length)
  t.same(rs.map((r) => JSON.parse(r.text)), sends.map((s) => s[2]))
})
