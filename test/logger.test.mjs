// Logging (src/logger.ts): new App({ logger, genReqId, requestIdHeader, requestIdLogLabel,
// disableRequestLogging }), app.log, req.log, req.id, the "incoming request" / "request
// completed" lines and the handler-error line.  A real pino writes into a stream the test
// reads back; requests go over real sockets on 127.0.0.1 and through inject().

import t from 'tap'
import { Writable, Readable } from 'node:stream'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { makeApp, salvo, throwsCode, until, delay } from './helpers/api.mjs'
import { RawClient } from './helpers/raw-client.mjs'

const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url))

/** A pino logger writing JSON lines into `lines`. */
function capture (opts = {}) {
  const lines = []
  const stream = new Writable({
    write (chunk, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l))
      cb()
    }
  })
  return { lines, log: pino(opts, stream) }
}

const completed = (lines) => lines.filter((l) => l.msg === 'request completed')
const incoming = (lines) => lines.filter((l) => l.msg === 'incoming request')

t.test('options are validated; unknown ones stay errors', async (t) => {
  const { App } = salvo()
  throwsCode(t, () => new App({ loger: true }), 'SALVO_ERR_INVALID_ARG', 'a misspelt logger')
  throwsCode(t, () => new App({ logger: 'yes' }), 'SALVO_ERR_INVALID_ARG', 'logger: a string')
  throwsCode(t, () => new App({ logger: null }), 'SALVO_ERR_INVALID_ARG', 'logger: null')
  throwsCode(t, () => new App({ logger: { level: 'loud' } }), 'SALVO_ERR_INVALID_ARG', 'pino options pino refuses')
  throwsCode(t, () => new App({ genReqId: 'req' }), 'SALVO_ERR_INVALID_ARG', 'genReqId not a function')
  throwsCode(t, () => new App({ requestIdHeader: 'x request id' }), 'SALVO_ERR_INVALID_ARG', 'requestIdHeader not a token')
  throwsCode(t, () => new App({ requestIdHeader: true }), 'SALVO_ERR_INVALID_ARG', 'requestIdHeader: true')
  throwsCode(t, () => new App({ requestIdLogLabel: '' }), 'SALVO_ERR_INVALID_ARG', 'requestIdLogLabel empty')
  throwsCode(t, () => new App({ disableRequestLogging: 'no' }), 'SALVO_ERR_INVALID_ARG', 'disableRequestLogging not a boolean')
  const withOpts = new App({ logger: { level: 'warn' } })
  t.equal(withOpts.log.level, 'warn', 'pino options make a pino with them')
  t.type(withOpts.log.child, 'function')
  const mine = pino({ level: 'debug' }, new Writable({ write (_c, _e, cb) { cb() } }))
  t.equal(new App({ logger: mine }).log, mine, 'a pino instance is used as it is')
})

t.test('logger off: app.log and req.log are no-op loggers, req.id still works', async (t) => {
  const { App } = salvo()
  const app = new App()
  for (const m of ['fatal', 'error', 'warn', 'info', 'debug', 'trace']) {
    t.doesNotThrow(() => app.log[m]({ a: 1 }, 'x'), `app.log.${m}() is safe`)
  }
  t.equal(app.log.child({ a: 1 }), app.log, 'child() of the no-op logger is itself (no allocation)')
  t.equal(app.log.level, 'silent')
  const seen = []
  app.get('/', (req) => {
    req.log.info('nothing')
    seen.push([req.id, req.id, req.log === app.log])
    return 'ok'
  })
  for (let i = 0; i < 2; i++) t.equal((await app.inject({ url: '/' })).body, 'ok')
  t.same(seen, [['req-1', 'req-1', true], ['req-2', 'req-2', true]], 'ids from the per-app counter, stable per request')
  const other = new App()
  other.get('/', (req) => req.id)
  t.equal((await other.inject({ url: '/' })).body, 'req-1', 'another app has its own counter')
})

t.test('logger off writes nothing; the same program with logger: true does (the check can fail)', async (t) => {
  const prog = (logger) => `
    const { App } = require(${JSON.stringify(DIST)})
    const app = new App({ logger: ${logger} })
    app.get('/', (req) => { req.log.info('in handler'); return 'ok' })
    app.get('/boom', () => { throw new Error('boom') })
    app.log.info('started')
    ;(async () => {
      await app.inject({ url: '/' })
      await app.inject({ url: '/boom' })
      await new Promise((r) => setTimeout(r, 20))
    })()`
  const run = (src) => new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', src], { timeout: 10_000 }, (err, stdout, stderr) => (err ? reject(err) : resolve({ stdout, stderr })))
  })
  const off = await run(prog('false'))
  t.equal(off.stdout, '', 'logger off: nothing on stdout')
  t.equal(off.stderr, '', 'logger off: nothing on stderr')
  const on = await run(prog('true'))
  const lines = on.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l))
  t.ok(lines.some((l) => l.msg === 'started'), 'logger: true: app.log writes to stdout')
  t.ok(lines.some((l) => l.msg === 'in handler' && l.reqId === 'req-1'), 'logger: true: req.log writes with reqId')
  t.ok(lines.some((l) => l.msg === 'boom' && l.level === 50), 'logger: true: the handler error is logged')
})

for (const mode of ['socket', 'inject']) {
  t.test(`request lines, reqId sequence and bytes [${mode}]`, async (t) => {
    const cap = capture()
    const { request } = await makeApp(t, mode, {
      options: { logger: cap.log },
      setup: (app) => {
        app.get('/hello', () => 'héllo') // 5 characters, 6 bytes
        app.get('/json', () => ({ a: 1 }))
      }
    })
    const r1 = await request({ url: '/hello' })
    t.equal(r1.body, 'héllo')
    await request({ url: '/json?x=1' })
    await request({ url: '/hello' })
    await until(() => completed(cap.lines).length === 3, 'three completed lines')
    const inc = incoming(cap.lines)
    const done = completed(cap.lines)
    t.same(inc.map((l) => l.reqId), ['req-1', 'req-2', 'req-3'], 'incoming lines: ids in arrival order')
    t.same(done.map((l) => l.reqId), ['req-1', 'req-2', 'req-3'], 'completed lines: the same ids')
    t.same(inc[1].req, { method: 'GET', url: '/json?x=1', host: mode === 'socket' ? '127.0.0.1' : 'localhost', remoteAddress: '127.0.0.1' }, 'incoming: method, url, host, address')
    t.same(done.map((l) => l.res), [{ statusCode: 200 }, { statusCode: 200 }, { statusCode: 200 }])
    t.same(done.map((l) => l.bytes), [6, 7, 6], 'bytes: the Content-Length (bytes, not characters)')
    for (const l of done) {
      t.type(l.responseTime, 'number')
      t.ok(l.responseTime >= 0 && l.responseTime < 5000, `responseTime ${l.responseTime} ms`)
      t.equal(l.level, 30, 'info level')
    }
    t.equal(cap.lines.length, 6, 'nothing else was logged')
  })

  t.test(`completion line for async, 404, error, stream and HEAD answers [${mode}]`, async (t) => {
    const cap = capture()
    const { request } = await makeApp(t, mode, {
      options: { logger: cap.log },
      setup: (app) => {
        app.get('/async', async () => { await delay(30); return { ok: true } })
        app.get('/later', (req, res) => { setTimeout(() => res.status(201).send('made'), 10) })
        app.get('/boom', () => { throw new Error('kaput') })
        app.get('/teapot', () => { const e = new Error('short and stout'); e.statusCode = 418; throw e })
        app.get('/stream', (req, res) => {
          res.write('abc')
          setTimeout(() => { res.write('defg'); res.end() }, 40)
        })
        app.get('/readable', () => Readable.from(['12', '345']))
      }
    })
    const ids = {}
    const run = async (url, status) => {
      const r = await request({ url })
      t.equal(r.statusCode, status, `${url}: ${status}`)
      await until(() => completed(cap.lines).length === Object.keys(ids).length + 1, `${url} completed`)
      ids[url] = completed(cap.lines).at(-1)
      return r
    }
    await run('/async', 200)
    t.ok(ids['/async'].responseTime >= 25, `async: responseTime covers the handler's await (${ids['/async'].responseTime})`)
    t.equal(ids['/async'].bytes, 11)
    await run('/later', 201)
    t.same(ids['/later'].res, { statusCode: 201 })
    t.equal(ids['/later'].bytes, 4)
    const nf = await run('/nope', 404)
    t.equal(ids['/nope'].bytes, nf.rawBody.length, '404: bytes of the error body')
    await run('/boom', 500)
    const errLine = cap.lines.find((l) => l.msg === 'kaput')
    t.ok(errLine, 'the 500 is logged with the error message')
    t.equal(errLine.level, 50, 'at error level')
    t.equal(errLine.err.message, 'kaput')
    t.match(errLine.err.stack, /kaput/, 'with the stack')
    t.equal(errLine.reqId, ids['/boom'].reqId, 'with the request id')
    t.same(ids['/boom'].res, { statusCode: 500 })
    await run('/teapot', 418)
    t.notOk(cap.lines.some((l) => l.msg === 'short and stout'), 'a 4xx error gets no error line (only its completion line)')
    const s = await run('/stream', 200)
    t.equal(s.body, 'abcdefg')
    t.equal(ids['/stream'].bytes, 7, 'stream: the streamed body bytes')
    t.ok(ids['/stream'].responseTime >= 35, `stream: completed when it ended (${ids['/stream'].responseTime})`)
    await run('/readable', 200)
    t.equal(ids['/readable'].bytes, 5)
  })

  t.test(`requestIdHeader: a sane id is trusted, others replaced [${mode}]`, async (t) => {
    const cap = capture()
    const seen = []
    const { request } = await makeApp(t, mode, {
      options: { logger: cap.log, requestIdHeader: 'X-Request-Id' },
      setup: (app) => app.get('/', (req) => { seen.push(req.id); return req.id })
    })
    const ask = async (value) => (await request({ url: '/', headers: value === undefined ? {} : { 'x-request-id': value } })).body
    t.equal(await ask('abc-123'), 'abc-123', 'a printable id is used')
    t.equal(await ask('x'.repeat(128)), 'x'.repeat(128), '128 characters: used')
    t.equal(await ask('x'.repeat(129)), 'req-1', 'longer than 128: generated instead')
    t.equal(await ask('has space'), 'req-2', 'a space: generated instead')
    t.equal(await ask(undefined), 'req-3', 'no header: generated')
    t.equal(await ask(''), 'req-4', 'empty: generated')
    await until(() => completed(cap.lines).length === 6, 'six completed')
    t.same(completed(cap.lines).map((l) => l.reqId), ['abc-123', 'x'.repeat(128), 'req-1', 'req-2', 'req-3', 'req-4'], 'the log uses the same ids')
  })

  t.test(`requestIdHeader off by default; genReqId and requestIdLogLabel [${mode}]`, async (t) => {
    const cap = capture()
    let n = 100
    const { request } = await makeApp(t, mode, {
      options: { logger: cap.log, genReqId: (req) => `${req.method}-${n++}`, requestIdLogLabel: 'requestId' },
      setup: (app) => app.get('/', (req) => req.id)
    })
    t.equal((await request({ url: '/', headers: { 'x-request-id': 'client-chosen' } })).body, 'GET-100', 'the header is not trusted unless asked for; genReqId gets the request')
    t.equal((await request({ url: '/' })).body, 'GET-101')
    await until(() => completed(cap.lines).length === 2, 'two completed')
    t.same(completed(cap.lines).map((l) => l.requestId), ['GET-100', 'GET-101'], 'the label names the field')
    t.notOk(cap.lines.some((l) => 'reqId' in l), 'no reqId field')
  })

  t.test(`req.log: a child with the id, made once; its fields reach the completion line [${mode}]`, async (t) => {
    const cap = capture()
    const { request } = await makeApp(t, mode, {
      options: { logger: cap.log },
      setup: (app) => {
        app.get('/', (req) => {
          const same = req.log === req.log
          req.log.info({ user: 'ada' }, 'loading')
          return String(same)
        })
        app.get('/bound', (req) => {
          req.log.setBindings({ tenant: 't1' })
          return 'ok'
        })
      }
    })
    t.equal((await request({ url: '/' })).body, 'true', 'req.log is the same object on every read')
    await until(() => completed(cap.lines).length === 1, 'completed')
    const line = cap.lines.find((l) => l.msg === 'loading')
    t.equal(line.reqId, 'req-1', 'the child has the request id')
    t.equal(line.user, 'ada', 'and the fields of the call')
    await request({ url: '/bound' })
    await until(() => completed(cap.lines).length === 2, 'completed')
    const last = completed(cap.lines)[1]
    t.equal(last.tenant, 't1', 'the completion line goes through the child the handler bound fields on')
    t.equal(last.reqId, 'req-2', 'once')
    t.equal(JSON.stringify(last).split('"reqId"').length, 2, 'the id appears once in the line')
  })

  t.test(`disableRequestLogging: no request lines, errors still logged [${mode}]`, async (t) => {
    const cap = capture()
    const { request } = await makeApp(t, mode, {
      options: { logger: cap.log, disableRequestLogging: true },
      setup: (app) => {
        app.get('/', (req) => { req.log.info('handler line'); return 'ok' })
        app.get('/boom', () => { throw new Error('still logged') })
      }
    })
    await request({ url: '/' })
    await request({ url: '/boom' })
    await until(() => cap.lines.length >= 2, 'two lines')
    await delay(20)
    t.same(cap.lines.map((l) => l.msg), ['handler line', 'still logged'])
    t.same(cap.lines.map((l) => l.reqId), ['req-1', 'req-2'])
  })
}

t.test('pipelined requests on one socket: ids and completion lines in request order', async (t) => {
  const cap = capture()
  const { port } = await makeApp(t, 'socket', {
    options: { logger: cap.log },
    setup: (app) => {
      app.get('/slow', async () => { await delay(30); return 'slow' })
      app.get('/fast', () => 'fast')
    }
  })
  const c = await RawClient.connect(port)
  t.teardown(() => c.destroy())
  const req = (p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`
  await c.write(req('/slow') + req('/fast') + req('/fast'))
  const rs = await c.readResponses(3)
  t.same(rs.map((r) => r.body.toString()), ['slow', 'fast', 'fast'])
  await until(() => completed(cap.lines).length === 3, 'three completed')
  t.same(incoming(cap.lines).map((l) => [l.reqId, l.req.url]), [['req-1', '/slow'], ['req-2', '/fast'], ['req-3', '/fast']], 'ids follow arrival')
  const done = completed(cap.lines)
  t.same(done.map((l) => l.reqId).sort(), ['req-1', 'req-2', 'req-3'], 'each request completed once')
  t.ok(done.find((l) => l.reqId === 'req-1').responseTime >= 25, 'the slow one took its time')
})

t.test('a request-id source that throws answers 500, logged, and the server goes on', async (t) => {
  const cap = capture()
  let fail = true
  const { request } = await makeApp(t, 'socket', {
    options: { logger: cap.log, genReqId: () => { if (fail) throw new Error('no ids today'); return 'fine' } },
    setup: (app) => app.get('/', (req) => req.id)
  })
  t.equal((await request({ url: '/' })).statusCode, 500)
  fail = false
  t.equal((await request({ url: '/' })).body, 'fine')
})

t.test('the timeout 503 gets its completion line', async (t) => {
  const cap = capture()
  const { request } = await makeApp(t, 'inject', {
    options: { logger: cap.log, requestTimeout: 50 },
    setup: (app) => app.get('/never', () => new Promise(() => {}))
  })
  const keep = setInterval(() => {}, 1000) // inject holds no handle: keep the loop alive
  t.teardown(() => clearInterval(keep))
  t.equal((await request({ url: '/never' })).statusCode, 503)
  await until(() => completed(cap.lines).length === 1, 'completed')
  t.same(completed(cap.lines)[0].res, { statusCode: 503 })
})
