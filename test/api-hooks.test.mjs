// API spec, hooks and errors in the lifecycle: onRequest, preHandler, onSend, onResponse,
// onError; their order; async hooks; short-circuit; onSend replacing the payload;
// setErrorHandler; err.statusCode; no stack without debug, stack with debug.

import t from 'tap'
import { forBoth, delay, until } from './helpers/api.mjs'

function recorder (app, { async = false } = {}) {
  const log = []
  app.__log = log
  const wrap = (name, fn) => async
    ? async (...a) => { await delay(1); return fn(...a) }
    : fn
  app.addHook('onRequest', wrap('onRequest', (req, res) => { log.push(['onRequest', req.url, res.sent, typeof req.params]) }))
  app.addHook('preHandler', wrap('preHandler', (req, res) => { log.push(['preHandler', req.url, res.sent]) }))
  app.addHook('onSend', wrap('onSend', (req, res, payload) => {
    log.push(['onSend', req.url, typeof payload === 'string' ? payload : `buf:${Buffer.from(payload).toString()}`])
  }))
  app.addHook('onResponse', wrap('onResponse', (req, res) => { log.push(['onResponse', req.url, res.sent]) }))
  app.addHook('onError', wrap('onError', (req, res, err) => { log.push(['onError', req.url, err.message]) }))
  return log
}

for (const async of [false, true]) {
  const kind = async ? 'async' : 'sync'
  forBoth(t, `${kind} hooks run in order: onRequest, preHandler, handler, onSend, onResponse`, {
    setup (app) {
      const log = recorder(app, { async })
      app.get('/o/:x', (req) => { log.push(['handler', req.url, req.params.x]); return { x: req.params.x } })
      app.get('/buf', () => { log.push(['handler', '/buf']); return Buffer.from('bytes') })
    }
  }, async (t, { request, app }) => {
    const log = app.__log
    const r = await request({ url: '/o/7' })
    t.same(r.json(), { x: '7' })
    await until(() => log.some((e) => e[0] === 'onResponse'), 'onResponse ran')
    t.same(log.map((e) => e[0]), ['onRequest', 'preHandler', 'handler', 'onSend', 'onResponse'])
    t.same(log[0], ['onRequest', '/o/7', false, 'object'], 'onRequest(req, res) after routing: params known')
    t.same(log[2], ['handler', '/o/7', '7'])
    t.same(log[3], ['onSend', '/o/7', '{"x":"7"}'], 'onSend gets the serialized body')
    t.equal(log.filter((e) => e[0] === 'onError').length, 0, 'no onError')
    log.length = 0
    await request({ url: '/buf' })
    await until(() => log.some((e) => e[0] === 'onResponse'), 'onResponse ran')
    t.same(log.find((e) => e[0] === 'onSend'), ['onSend', '/buf', 'buf:bytes'], 'a Buffer payload is passed as bytes')
  })
}

forBoth(t, 'hooks run for 404s too', {
  setup (app) { recorder(app) }
}, async (t, { request, app }) => {
  const r = await request({ url: '/missing' })
  t.equal(r.statusCode, 404)
  await until(() => app.__log.some((e) => e[0] === 'onResponse'), 'onResponse ran')
  t.ok(app.__log.some((e) => e[0] === 'onRequest'), 'onRequest ran for a 404')
})

forBoth(t, 'onRequest that sends skips the handler (sync and async)', {
  setup (app) {
    app.__calls = 0
    app.addHook('onRequest', (req, res) => {
      if (req.query.block === 'sync') res.status(401).send({ blocked: 'sync' })
    })
    app.addHook('onRequest', async (req, res) => {
      if (req.query.block === 'async') { await delay(2); res.status(403).send('blocked async') }
    })
    app.get('/guarded', () => { app.__calls++; return 'handler ran' })
  }
}, async (t, { request, app }) => {
  const a = await request({ url: '/guarded?block=sync' })
  t.equal(a.statusCode, 401)
  t.same(a.json(), { blocked: 'sync' })
  const b = await request({ url: '/guarded?block=async' })
  t.equal(b.statusCode, 403)
  t.equal(b.body, 'blocked async')
  t.equal(app.__calls, 0, 'handler skipped')
  const c = await request({ url: '/guarded' })
  t.equal(c.body, 'handler ran')
  t.equal(app.__calls, 1)
})

forBoth(t, 'preHandler that sends skips the handler (sync and async)', {
  setup (app) {
    app.__calls = 0
    app.addHook('preHandler', (req, res) => { if (req.query.p === 'sync') res.send('pre sync') })
    app.addHook('preHandler', async (req, res) => { if (req.query.p === 'async') { await delay(1); res.status(429).send({ pre: 'async' }) } })
    app.get('/pre', () => { app.__calls++; return 'handler' })
  }
}, async (t, { request, app }) => {
  t.equal((await request({ url: '/pre?p=sync' })).body, 'pre sync')
  const b = await request({ url: '/pre?p=async' })
  t.equal(b.statusCode, 429)
  t.same(b.json(), { pre: 'async' })
  t.equal(app.__calls, 0)
  t.equal((await request({ url: '/pre' })).body, 'handler')
})

forBoth(t, 'onRequest runs before the handler reads the body; hooks see the request', {
  setup (app) {
    app.addHook('onRequest', (req) => { req.seenInHook = `${req.method} ${req.path} ${req.header('x-a')}` })
    app.decorateRequest('seenInHook', '')
    app.post('/seen', (req) => ({ seen: req.seenInHook, body: req.body.toString() }))
  }
}, async (t, { request }) => {
  const r = await request({ method: 'POST', url: '/seen', headers: { 'x-a': 'v' }, body: 'payload' })
  t.same(r.json(), { seen: 'POST /seen v', body: 'payload' })
})

forBoth(t, 'onSend: returning a string/Buffer replaces the payload; undefined keeps it', {
  setup (app) {
    app.addHook('onSend', (req, res, payload) => {
      if (req.query.mode === 'string') return `wrapped(${payload})`
      if (req.query.mode === 'buffer') return Buffer.from(`buf(${payload})`)
      if (req.query.mode === 'async') return delay(2).then(() => `async(${payload})`)
      return undefined
    })
    app.addHook('onSend', (req, res, payload) => {
      if (req.query.mode === 'chain') return `second(${payload})`
    })
    app.get('/send', () => 'orig')
    app.get('/send-json', () => ({ k: 1 }))
    app.get('/send-async', async () => { await delay(1); return 'late' })
  }
}, async (t, { request }) => {
  const keep = await request({ url: '/send' })
  t.equal(keep.body, 'orig', 'undefined keeps it')
  t.equal(keep.headers['content-length'], '4')
  const s = await request({ url: '/send?mode=string' })
  t.equal(s.body, 'wrapped(orig)')
  t.equal(s.headers['content-length'], String('wrapped(orig)'.length), 'Content-Length of the new payload')
  const b = await request({ url: '/send?mode=buffer' })
  t.equal(b.body, 'buf(orig)')
  t.equal(b.headers['content-length'], String('buf(orig)'.length))
  const a = await request({ url: '/send?mode=async' })
  t.equal(a.body, 'async(orig)', 'an async onSend may replace it too')
  const c = await request({ url: '/send?mode=chain' })
  t.equal(c.body, 'second(orig)', 'the next onSend gets the current payload')
  const j = await request({ url: '/send-json?mode=string' })
  t.equal(j.body, 'wrapped({"k":1})', 'payload is the serialized JSON')
  const l = await request({ url: '/send-async?mode=string' })
  t.equal(l.body, 'wrapped(late)', 'for async handlers too')
})

forBoth(t, 'onResponse: after the response; return value and errors ignored', {
  setup (app) {
    app.__done = []
    app.addHook('onResponse', (req) => { app.__done.push(req.url); throw new Error('ignored') })
    app.addHook('onResponse', async (req) => { app.__done.push(`async ${req.url}`); throw new Error('ignored too') })
    app.addHook('onResponse', () => 'ignored value')
    app.get('/r', () => 'fine')
  }
}, async (t, { request, app }) => {
  const r = await request({ url: '/r' })
  t.equal(r.statusCode, 200)
  t.equal(r.body, 'fine')
  await until(() => app.__done.length === 2, 'both onResponse hooks ran')
  t.same(app.__done, ['/r', 'async /r'], 'a throwing onResponse does not stop the next')
  const r2 = await request({ url: '/r' })
  t.equal(r2.body, 'fine', 'the app keeps working')
})

forBoth(t, 'onError: called with (req, res, err) for throws and rejections of handlers and hooks, before the error handler', {
  setup (app) {
    app.__log = []
    app.addHook('onError', (req, res, err) => { app.__log.push(['onError', req.url, err.message]) })
    app.addHook('preHandler', (req) => { if (req.query.hook) throw new Error('hook threw') })
    app.setErrorHandler((err, req, res) => {
      app.__log.push(['errorHandler', req.url, err.message])
      res.status(500)
      return { handled: err.message }
    })
    app.get('/throw', () => { throw new Error('sync throw') })
    app.get('/reject', async () => { await delay(1); throw new Error('async reject') })
  }
}, async (t, { request, app }) => {
  for (const [url, msg] of [['/throw', 'sync throw'], ['/reject', 'async reject'], ['/throw?hook=1', 'hook threw']]) {
    app.__log.length = 0
    const r = await request({ url })
    t.equal(r.statusCode, 500)
    t.same(r.json(), { handled: msg })
    t.same(app.__log, [['onError', url, msg], ['errorHandler', url, msg]], `${url}: onError, then the error handler`)
  }
})

forBoth(t, 'onError cannot change the response', {
  setup (app) {
    app.addHook('onError', (req, res) => {
      if (req.query.m === 'send') res.send('hijacked by onError')
      if (req.query.m === 'status') { res.status(299); res.header('X-OnError', '1') }
      if (req.query.m === 'throw') throw new Error('onError itself threw')
    })
    app.get('/e', () => { const e = new Error('bad input'); e.statusCode = 422; throw e })
  }
}, async (t, { request }) => {
  for (const m of ['send', 'status', 'throw']) {
    const r = await request({ url: `/e?m=${m}` })
    t.equal(r.statusCode, 422, `${m}: status from the error`)
    let body = null
    try { body = r.json() } catch {}
    t.equal(body?.message, 'bad input', `${m}: default error body (got ${JSON.stringify(r.body)})`)
    t.notOk('x-onerror' in r.headers, `${m}: no header added`)
  }
})

forBoth(t, 'setErrorHandler: its value is the answer; res.status() honoured; async too', {
  setup (app) {
    app.setErrorHandler(async (err, req, res) => {
      await delay(1)
      if (req.query.rethrow) throw new Error('handler failed too')
      if (req.query.send) { res.status(503).send('sent by error handler'); return }
      res.status(err.statusCode ?? 500)
      return { custom: true, message: err.message }
    })
    app.get('/x', () => { const e = new Error('teapot'); e.statusCode = 418; throw e })
  }
}, async (t, { request }) => {
  const a = await request({ url: '/x' })
  t.equal(a.statusCode, 418)
  t.same(a.json(), { custom: true, message: 'teapot' })
  const b = await request({ url: '/x?send=1' })
  t.equal(b.statusCode, 503)
  t.equal(b.body, 'sent by error handler')
  const c = await request({ url: '/x?rethrow=1' })
  t.equal(c.statusCode, 500, 'an error handler that throws gives the default 500')
  t.equal(c.json().statusCode, 500)
})

forBoth(t, 'default error response: err.statusCode honoured when 400-599, else 500', {
  setup (app) {
    app.get('/code/:s', (req) => {
      const e = new Error(`msg ${req.params.s}`)
      e.statusCode = Number(req.params.s)
      if (req.query.code) e.code = req.query.code
      throw e
    })
    app.get('/plain', () => { throw new Error('plain secret') })
    app.get('/notanerror', () => { throw 'a string' }) // eslint-disable-line no-throw-literal
  }
}, async (t, { request }) => {
  for (const s of [400, 404, 409, 422, 451, 499]) {
    const r = await request({ url: `/code/${s}` })
    t.equal(r.statusCode, s, `statusCode ${s}`)
    t.match(r.headers['content-type'], /^application\/json/)
    const b = r.json()
    t.equal(b.statusCode, s)
    t.equal(b.error, r.statusMessage, 'error is the reason phrase')
    t.equal(b.message, `msg ${s}`, '4xx keeps the message')
    t.notOk('stack' in b, 'no stack')
  }
  for (const s of [200, 302, 399, 600, 1000]) {
    const r = await request({ url: `/code/${s}` })
    t.equal(r.statusCode, 500, `statusCode ${s} -> 500`)
  }
  const c = await request({ url: '/code/409?code=E_CONFLICT' })
  t.equal(c.json().code, 'E_CONFLICT', 'err.code passed on')
  const p = await request({ url: '/plain' })
  t.equal(p.statusCode, 500)
  t.same(p.json(), { statusCode: 500, error: 'Internal Server Error', message: 'Internal Server Error' }, 'exact 5xx shape')
  t.notOk(p.body.includes('plain secret'), 'no message for 5xx without debug')
  t.notOk(p.body.includes('at '), 'no stack without debug')
  const n = await request({ url: '/notanerror' })
  t.equal(n.statusCode, 500, 'a thrown non-Error gives 500')
})

forBoth(t, '5xx without debug: reason phrase, no stack (sync and async, 503 too)', {
  setup (app) {
    app.get('/s', () => { const e = new Error('db password is hunter2'); e.statusCode = 503; throw e })
    app.get('/a', async () => { await delay(1); throw new Error('internal detail') })
  }
}, async (t, { request }) => {
  const s = await request({ url: '/s' })
  t.equal(s.statusCode, 503)
  t.same(s.json(), { statusCode: 503, error: 'Service Unavailable', message: 'Service Unavailable' })
  const a = await request({ url: '/a' })
  t.same(a.json(), { statusCode: 500, error: 'Internal Server Error', message: 'Internal Server Error' })
})

forBoth(t, 'debug: true puts the message and stack into 5xx bodies', {
  options: { debug: true },
  setup (app) {
    app.get('/s', () => { throw new Error('visible detail') })
    app.get('/a', async () => { await delay(1); const e = new Error('async detail'); e.statusCode = 502; throw e })
  }
}, async (t, { request }) => {
  const s = await request({ url: '/s' })
  t.equal(s.statusCode, 500)
  const b = s.json()
  t.equal(b.statusCode, 500)
  t.equal(b.error, 'Internal Server Error')
  t.equal(b.message, 'visible detail')
  t.type(b.stack, 'string')
  t.match(b.stack, /visible detail/)
  t.match(b.stack, /api-hooks\.test\.mjs/, 'the stack points at the throw site')
  const a = (await request({ url: '/a' })).json()
  t.equal(a.statusCode, 502)
  t.equal(a.message, 'async detail')
  t.type(a.stack, 'string')
})

forBoth(t, 'an async hook that rejects goes to onError and the error handler', {
  setup (app) {
    app.__log = []
    app.addHook('onRequest', async (req) => { await delay(1); if (req.query.fail) { const e = new Error('denied'); e.statusCode = 401; throw e } })
    app.addHook('onError', (req, res, err) => { app.__log.push(err.message) })
    app.get('/h', () => 'ok')
  }
}, async (t, { request, app }) => {
  const r = await request({ url: '/h?fail=1' })
  t.equal(r.statusCode, 401)
  t.equal(r.json().message, 'denied')
  t.same(app.__log, ['denied'])
  t.equal((await request({ url: '/h' })).body, 'ok')
})

forBoth(t, 'onSend that throws gives an error response', {
  setup (app) {
    app.addHook('onSend', () => { throw new Error('onSend broke') })
    app.get('/s', () => 'x')
  }
}, async (t, { request }) => {
  const r = await request({ url: '/s' })
  t.equal(r.statusCode, 500)
  t.equal(r.json().statusCode, 500)
})

t.test('async hooks with varying delays keep pipelined responses in order', async (t) => {
  const { listenApp, buildRequest } = await import('./helpers/api.mjs')
  const { connect } = await import('./helpers/raw-client.mjs')
  const { port } = await listenApp(t, {
    setup (app) {
      // Later requests finish their hooks sooner.
      const wait = (req) => delay(Math.max(0, 20 - 2 * Number(req.params.i)))
      app.addHook('onRequest', async (req) => { await wait(req) })
      app.addHook('onSend', async (req, res, payload) => { await wait(req); return `${payload}!` })
      app.get('/o/:i', (req) => `o${req.params.i}`)
    }
  })
  const c = await connect(t, port)
  await c.write(Buffer.concat([...Array(10).keys()].map((i) => buildRequest({ url: `/o/${i}` }))))
  const rs = await c.readResponses(10)
  t.same(rs.map((r) => r.text), [...Array(10).keys()].map((i) => `o${i}!`))
})
