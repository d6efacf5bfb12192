// Limits, timeouts, backpressure, aborts and graceful shutdown, over real sockets.
import t from 'tap'
import net from 'node:net'
import { connect, get, post, delay, withTimeout } from './helpers/raw-client.mjs'
import { loadSalvo } from './helpers/app.mjs'

const { App } = loadSalvo()

async function start (t, options, setup) {
  const app = new App(options)
  setup(app)
  const server = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => withTimeout(server.close({ timeout: 1000 }), 5000, 'close').catch(() => {}))
  return server
}

t.test('a slow request head gets 408 and the connection closes (slowloris)', async (t) => {
  const server = await start(t, { headersTimeout: 300 }, (app) => app.get('/', () => 'ok'))
  const c = await connect(t, server.port)
  c.write('GET / HTTP/1.1\r\nHost: x\r\n')
  const t0 = Date.now()
  const { responses } = await c.readUntilClose({ timeout: 5000 })
  t.equal(responses.length, 1)
  t.equal(responses[0].statusLine, 'HTTP/1.1 408 Request Timeout')
  t.match(responses[0].body.toString(), /"code":"SALVO_ERR_REQUEST_TIMEOUT"/)
  t.ok(Date.now() - t0 >= 250, 'not before the timeout')
})

t.test('trickling one byte at a time does not extend the header timeout', async (t) => {
  const server = await start(t, { headersTimeout: 400 }, (app) => app.get('/', () => 'ok'))
  const c = await connect(t, server.port)
  const req = 'GET / HTTP/1.1\r\nHost: x\r\nX-Long: ' + 'a'.repeat(200)
  let i = 0
  const timer = setInterval(() => { if (i < req.length && !c.ended) c.write(req[i++]).catch(() => {}) }, 20)
  t.teardown(() => clearInterval(timer))
  const { responses } = await c.readUntilClose({ timeout: 5000 })
  clearInterval(timer)
  t.equal(responses[0]?.status, 408)
  t.ok(i < req.length, `closed before the head was complete (${i} of ${req.length} bytes sent)`)
})

t.test('a slow body gets 408', async (t) => {
  const server = await start(t, { bodyTimeout: 300 }, (app) => app.post('/', (req) => String(req.body.length)))
  const c = await connect(t, server.port)
  c.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc')
  const { responses } = await c.readUntilClose({ timeout: 5000 })
  t.equal(responses[0]?.status, 408)
})

t.test('an idle keep-alive connection is closed after keepAliveTimeout', async (t) => {
  const server = await start(t, { keepAliveTimeout: 300 }, (app) => app.get('/', () => 'ok'))
  const c = await connect(t, server.port)
  c.write(get('/'))
  const [r] = await c.readResponses(1)
  t.equal(r.status, 200)
  t.ok(await c.closedWithin(3000), 'the server closed the idle connection')
})

t.test('Expect: 100-continue gets 100 Continue before the body is sent', async (t) => {
  const server = await start(t, {}, (app) => app.post('/', (req) => `got ${req.body.length}`))
  const c = await connect(t, server.port)
  c.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n')
  const interim = await withTimeout(new Promise((resolve) => {
    const check = () => (c.buf.includes('\r\n\r\n') ? resolve(c.buf.toString()) : setTimeout(check, 5))
    check()
  }), 5000, '100 Continue')
  t.equal(interim, 'HTTP/1.1 100 Continue\r\n\r\n')
  c.write('hello')
  const bytes = await withTimeout(new Promise((resolve) => {
    const check = () => (/got 5$/.test(c.buf.toString()) ? resolve(c.buf.toString()) : setTimeout(check, 5))
    check()
  }), 5000, 'final response')
  t.match(bytes, /100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n[\s\S]*got 5$/)
})

t.test('an expectation other than 100-continue gets 417', async (t) => {
  const server = await start(t, {}, (app) => app.post('/', () => 'no'))
  const c = await connect(t, server.port)
  c.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nExpect: teapot\r\n\r\nx')
  const { responses } = await c.readUntilClose({ timeout: 5000 })
  t.equal(responses[0]?.status, 417)
  t.match(responses[0]?.body.toString(), /SALVO_ERR_EXPECTATION_FAILED/)
})

t.test('a client that never reads holds at most about highWaterMark of output', async (t) => {
  const big = Buffer.alloc(256 * 1024, 'x')
  const server = await start(t, { highWaterMark: 512 * 1024 }, (app) => app.get('/big', () => big))
  const s = net.connect(server.port, '127.0.0.1')
  t.teardown(() => s.destroy())
  await new Promise((resolve) => s.once('connect', resolve))
  s.pause() // never read
  const one = get('/big')
  // 400 requests would be 100 MB of answers.
  for (let i = 0; i < 400; i++) s.write(one)
  await delay(800)
  const st = server.stats()
  t.ok(st.requests < 400, `reading stopped: ${st.requests} of 400 requests parsed`)
  const rss = process.memoryUsage().rss
  t.ok(rss < 1024 * 1024 * 1024, `server process memory stays bounded (${Math.round(rss / 1048576)} MB)`)
  // Reading resumes when the client drains.
  let got = 0
  s.on('data', (d) => { got += d.length })
  s.resume()
  await withTimeout(new Promise((resolve) => {
    const check = () => (server.stats().requests === 400 ? resolve() : setTimeout(check, 20))
    check()
  }), 20000, 'all 400 requests parsed after draining')
  t.equal(server.stats().requests, 400)
  t.ok(got > 0)
})

t.test('too many pending async answers on one connection pause reading', async (t) => {
  const release = []
  const server = await start(t, { maxPendingResponses: 10 }, (app) => {
    app.get('/wait', () => new Promise((resolve) => release.push(() => resolve('done'))))
  })
  const c = await connect(t, server.port)
  // Enough requests to need several reads; each read is one batch.
  for (let i = 0; i < 10; i++) {
    c.write(Buffer.concat(Array.from({ length: 10 }, () => get('/wait'))))
    await delay(30)
  }
  await delay(200)
  const parsed = server.stats().requests
  t.ok(parsed < 100, `reading paused with answers pending (${parsed} of 100 parsed)`)
  // Answer everything: reading resumes and every request is answered, in order.
  const drain = setInterval(() => { while (release.length) release.shift()() }, 10)
  t.teardown(() => clearInterval(drain))
  const rs = await c.readResponses(100, { timeout: 20000 })
  clearInterval(drain)
  t.equal(rs.length, 100)
  t.ok(rs.every((r) => r.body.toString() === 'done'))
})

t.test('a client reset mid-pipeline: req.signal aborts, late answers are dropped, nothing crashes', async (t) => {
  let aborted = 0
  let finished = 0
  const server = await start(t, {}, (app) => {
    app.get('/slow', async (req) => {
      req.signal.addEventListener('abort', () => { aborted++ })
      await delay(200)
      finished++
      return `late ${req.url} ${req.headers.host}`
    })
    app.get('/', () => 'ok')
  })
  const s = net.connect(server.port, '127.0.0.1')
  await new Promise((resolve) => s.once('connect', resolve))
  s.write(Buffer.concat([get('/slow'), get('/slow'), get('/')]))
  await delay(50)
  s.resetAndDestroy()
  await delay(400)
  t.equal(aborted, 2, 'both pending requests saw the abort')
  t.equal(finished, 2, 'the handlers finished and could still read their request')
  // The server still serves.
  const c = await connect(t, server.port)
  c.write(get('/'))
  const [r] = await c.readResponses(1)
  t.equal(r.body.toString(), 'ok')
  t.equal(server.stats().slabs <= 1, true, `slabs were released (${server.stats().slabs} live)`)
})

t.test('a reset in the middle of a body frees the connection', async (t) => {
  const server = await start(t, {}, (app) => app.post('/', (req) => String(req.body.length)))
  const s = net.connect(server.port, '127.0.0.1')
  await new Promise((resolve) => s.once('connect', resolve))
  s.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(50000))
  await delay(50)
  s.resetAndDestroy()
  await withTimeout(new Promise((resolve) => {
    const check = () => (server.stats().connections === 0 ? resolve() : setTimeout(check, 10))
    check()
  }), 5000, 'connection freed')
  t.equal(server.stats().slabs, 0, 'its slab went back to the pool')
})

t.test('server.close() answers every request in flight, then resolves', async (t) => {
  const app = new App()
  app.get('/slow/:n', async (req) => { await delay(100); return `done ${req.params.n}` })
  app.get('/', () => 'ok')
  const server = await app.listen({ port: 0, host: '127.0.0.1' })
  const clients = []
  for (let k = 0; k < 5; k++) {
    const c = await connect(t, server.port)
    c.write(Buffer.concat([get('/slow/' + k), get('/'), get('/slow/' + (k + 10))]))
    clients.push(c)
  }
  const idle = await connect(t, server.port)
  await delay(30) // the requests are read and dispatched
  const closed = server.close({ timeout: 5000 })
  for (const [k, c] of clients.entries()) {
    const rs = await c.readResponses(3, { timeout: 5000 })
    t.same(rs.map((r) => r.body.toString()), [`done ${k}`, 'ok', `done ${k + 10}`], `client ${k}: no lost responses`)
    t.ok(await c.closedWithin(3000), `client ${k} closed after its answers`)
  }
  t.ok(await idle.closedWithin(3000), 'the idle connection was closed')
  await withTimeout(closed, 5000, 'close()')
  t.pass('close resolved')
})

t.test('close({ timeout }) cuts connections whose answers never come', async (t) => {
  const app = new App()
  app.get('/never', () => new Promise(() => {}))
  const server = await app.listen({ port: 0, host: '127.0.0.1' })
  const c = await connect(t, server.port)
  c.write(get('/never'))
  await delay(30)
  const t0 = Date.now()
  await withTimeout(server.close({ timeout: 200 }), 5000, 'close')
  t.ok(Date.now() - t0 >= 150, 'waited for the timeout')
  t.ok(await c.closedWithin(2000), 'the connection was cut')
})

t.test('a chunked body trickled one byte per write decodes like one sent whole', async (t) => {
  const server = await start(t, {}, (app) => app.post('/', (req) => `${req.body.length}:${req.body.toString()}`))
  const chunks = ['5\r\nhello\r\n', '1;ext=1\r\n \r\n', 'A\r\n0123456789\r\n', '0\r\nX-Trailer: y\r\n\r\n']
  const head = 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'
  const c = await connect(t, server.port)
  for (const ch of head + chunks.join('')) {
    c.write(ch)
    await delay(1)
  }
  const [r] = await c.readResponses(1)
  t.equal(r.body.toString(), '16:hello 0123456789')
})
