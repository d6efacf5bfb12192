// Follow-ups of the security round, found while documenting it: onSend hooks may still
// set headers, a body stream that fails before its first chunk gets an error answer,
// and sendTimeout measures progress inside one large write, not only between writes.
import t from 'tap'
import net from 'node:net'
import { Readable } from 'node:stream'
import { connect, get } from './helpers/raw-client.mjs'
import { start, delay, withTimeout } from './helpers/security-util.mjs'

t.test('an onSend hook can still set a header and the status', async (t) => {
  const { port } = await start(t, {}, (app) => {
    app.addHook('onSend', (req, res, payload) => {
      res.header('X-Seen', 'yes')
      if (req.url === '/teapot') res.status(418)
      return payload
    })
    app.get('/', () => 'hello')
    app.get('/teapot', async () => 'tea')
  })
  const c = await connect(t, port)
  c.write(get('/') + get('/teapot'))
  const [a, b] = await c.readResponses(2)
  t.equal(a.status, 200)
  t.equal(a.headers['x-seen'], 'yes')
  t.equal(a.body.toString(), 'hello')
  t.equal(b.status, 418)
  t.equal(b.headers['x-seen'], 'yes')
})

t.test('a returned or sent stream that fails before its first chunk is answered 500', async (t) => {
  const failing = () => new Readable({ read () { this.destroy(new Error('disk gone')) } })
  const { port } = await start(t, {}, (app) => {
    app.get('/returned', () => failing())
    app.get('/sent', (req, res) => res.send(failing()))
    app.get('/ok', () => Readable.from(['a', 'b']))
  })
  const c = await connect(t, port)
  c.write(get('/returned') + get('/sent') + get('/ok'))
  const rs = await c.readResponses(3, { timeout: 3000 })
  t.equal(rs[0].status, 500)
  t.equal(rs[1].status, 500)
  t.notMatch(rs[0].body.toString(), /disk gone/, 'no internals in the 500')
  t.equal(rs[2].body.toString(), 'ab')
})

t.test('sendTimeout: a client that reads steadily but slowly is not cut inside one large write', async (t) => {
  const BIG = Buffer.alloc(24 * 1024 * 1024, 'x')
  const { port } = await start(t, { sendTimeout: 400 }, (app) => app.get('/big', () => BIG))
  const s = net.connect(port, '127.0.0.1')
  t.teardown(() => s.destroy())
  await new Promise((resolve) => s.once('connect', resolve))
  let got = 0
  let closedEarly = false
  s.on('close', () => { if (got < BIG.length) closedEarly = true })
  const done = new Promise((resolve) => {
    s.on('data', (d) => {
      got += d.length
      // Throttle: a 100 ms pause after each 2 MiB (well under sendTimeout each time).
      if (got % (2 * 1024 * 1024) < d.length) {
        s.pause()
        setTimeout(() => s.resume(), 100)
      }
      if (got >= BIG.length) resolve()
    })
    s.on('close', resolve)
  })
  s.write(get('/big'))
  await withTimeout(done, 20000, 'the whole body')
  t.notOk(closedEarly, `the connection stayed open while the client read (${got} bytes)`)
  t.ok(got >= BIG.length, 'the whole answer arrived')
  await delay(10)
})

t.test('a request answered in its batch\'s microtasks, kept, never shows the next request\'s bytes', async (t) => {
  const kept = []
  const { port } = await start(t, {}, (app) => {
    app.get('/keep', async (req) => { kept.push(req); return 'kept' })
    app.get('/later', async (req) => {
      kept.push(req)
      await delay(30) // pending past the checkpoint: it copies its own bytes
      return 'later'
    })
    app.get('/other', () => 'other')
  })
  const c = await connect(t, port)
  c.write(get('/keep', { headers: { Authorization: 'Bearer secret-of-A' } }) + get('/later', { headers: { Authorization: 'Bearer secret-of-L' } }))
  const first = await c.readResponses(1)
  t.equal(first[0].body.toString(), 'kept')
  // The same connection's next read reuses the slab; another connection's too.
  c.write(get('/other', { headers: { Authorization: 'Bearer secret-of-B'.padEnd(40, 'B') } }))
  const c2 = await connect(t, port)
  c2.write(get('/other', { headers: { Authorization: 'Bearer secret-of-C'.padEnd(40, 'C') } }))
  await c2.readResponses(1)
  const rest = await c.readResponses(2)
  t.same(rest.map((r) => r.body.toString()), ['later', 'other'])
  const read = (req) => { try { return req.headers.authorization } catch (e) { return e.code } }
  const a = read(kept[0])
  t.ok(a === 'Bearer secret-of-A' || a === 'SALVO_ERR_REQUEST_ENDED', `the kept request reads its own header or REQUEST_ENDED (${a})`)
  t.equal(read(kept[1]), 'Bearer secret-of-L', 'a request that outlived its batch reads its own bytes')
  t.equal(kept[1].url, '/later')
})
