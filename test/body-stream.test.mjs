// Issue 11, item 3: streamed request bodies.  A route with `bodyStream: true` runs its handler
// once the head has arrived; `req.stream()` yields the body as it arrives (Content-Length and
// chunked, cut into any reads), never buffered whole: the connection stops being read while
// the consumer is behind.  bodyLimit is enforced while streaming (413, then close), a client
// that goes away fails the stream (SALVO_ERR_BODY_ABORTED), timeouts still apply, requests
// pipelined behind a streamed one are answered in order, an answer decided before the body
// has ended closes the connection, and Expect: 100-continue is answered.
import t from 'tap'
import { createHash } from 'node:crypto'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { delay, gate, salvo, throwsCode, until } from './helpers/api.mjs'
import { connect, get, post } from './helpers/raw-client.mjs'

const sha = (b) => createHash('sha256').update(b).digest('hex')

/** Reads a stream whole, hashing it; resolves { len, sha, chunks }. */
async function digest (stream) {
  const h = createHash('sha256')
  let len = 0
  let chunks = 0
  for await (const c of stream) {
    len += c.length
    chunks++
    h.update(c)
  }
  return { len, sha: h.digest('hex'), chunks }
}

function bytes (n, seed = 1) {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 7919 + seed) & 0xff
  return b
}

/** Chunked encoding of `body` cut into chunks of the given sizes (cycled). */
function chunked (body, sizes = [1000]) {
  const parts = []
  for (let at = 0, i = 0; at < body.length; i++) {
    const n = Math.min(sizes[i % sizes.length], body.length - at)
    parts.push(Buffer.from(n.toString(16) + '\r\n'), body.subarray(at, at + n), Buffer.from('\r\n'))
    at += n
  }
  parts.push(Buffer.from('0\r\n\r\n'))
  return Buffer.concat(parts)
}

function chunkedHead (target, headers = '') {
  return Buffer.from(`POST ${target} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n${headers}\r\n`)
}

async function start (t, setup, opts = {}) {
  const { App } = salvo()
  const app = new App(opts)
  setup(app)
  const server = await app.listen({ port: 0 })
  t.teardown(() => server.close({ timeout: 500 }))
  return { app, server }
}

/** Writes `buf` in pieces of `n` bytes, each its own write (and, with noDelay, its own segment). */
async function trickle (c, buf, n, pause = 0) {
  for (let at = 0; at < buf.length; at += n) {
    await c.write(buf.subarray(at, at + n))
    if (pause) await delay(pause)
  }
}

function hashRoute (app, seen) {
  app.post('/up', { bodyStream: true, bodyLimit: 64 * 1024 * 1024 }, async (req) => {
    seen?.push(req.body.length)
    const d = await digest(req.stream())
    return { len: d.len, sha: d.sha }
  })
}

t.test('content-length bodies, small and large, whole or cut into reads', async (t) => {
  const seen = []
  const { server } = await start(t, (app) => hashRoute(app, seen))
  const c = await connect(t, server.port)
  for (const body of [bytes(10), bytes(70 * 1024), bytes(300 * 1024, 5)]) {
    await c.write(post('/up', body))
    const [r] = await c.readResponses(1)
    t.equal(r.status, 200)
    t.same(JSON.parse(r.body), { len: body.length, sha: sha(body) }, `${body.length} bytes in one write`)
    t.not(r.headers.connection, 'close', 'the connection stays open')
  }
  t.same(seen, [0, 0, 0], 'req.body stays empty on a bodyStream route')
  // Byte by byte: every read brings one byte of the head or the body.
  const small = bytes(40, 3)
  await trickle(c, post('/up', small), 1)
  const [r] = await c.readResponses(1)
  t.same(JSON.parse(r.body), { len: 40, sha: sha(small) }, 'written byte by byte')
  // A large body in 1000-byte writes.
  const large = bytes(200 * 1024, 9)
  await trickle(c, post('/up', large), 1000)
  const [r2] = await c.readResponses(1)
  t.same(JSON.parse(r2.body), { len: large.length, sha: sha(large) }, '200 KiB in 1000-byte writes')
})

t.test('the handler runs before the body has arrived', async (t) => {
  const started = gate()
  const { server } = await start(t, (app) => {
    app.post('/up', { bodyStream: true }, async (req) => {
      started.open()
      return digest(req.stream())
    })
  })
  const c = await connect(t, server.port)
  const body = bytes(5000)
  const wire = post('/up', body)
  await c.write(wire.subarray(0, wire.length - body.length + 100))
  await started.p
  t.pass('the handler started with 100 of 5000 body bytes sent')
  await c.write(wire.subarray(wire.length - body.length + 100))
  const [r] = await c.readResponses(1)
  t.equal(JSON.parse(r.body).sha, sha(body))
})

t.test('chunked bodies: small byte by byte, large in uneven chunks and writes', async (t) => {
  const { server } = await start(t, (app) => hashRoute(app))
  const c = await connect(t, server.port)
  const small = bytes(30, 2)
  await trickle(c, Buffer.concat([chunkedHead('/up'), chunked(small, [7, 1, 5])]), 1)
  let [r] = await c.readResponses(1)
  t.same(JSON.parse(r.body), { len: 30, sha: sha(small) }, 'chunked, byte by byte')
  const large = bytes(400 * 1024, 4)
  const wire = Buffer.concat([chunkedHead('/up'), chunked(large, [1, 4093, 65536, 17, 100000])])
  await trickle(c, wire, 6007)
  ;[r] = await c.readResponses(1)
  t.same(JSON.parse(r.body), { len: large.length, sha: sha(large) }, 'chunked, 400 KiB in 6007-byte writes')
  // Extensions and trailers are validated and dropped, as for buffered bodies.
  await c.write(Buffer.concat([chunkedHead('/up'), Buffer.from('3;a=b\r\nabc\r\n0\r\nX-T: 1\r\n\r\n')]))
  ;[r] = await c.readResponses(1)
  t.same(JSON.parse(r.body), { len: 3, sha: sha(Buffer.from('abc')) })
  t.not(r.headers.connection, 'close')
})

t.test('a body larger than maxBodySize streams through (sha256), memory bounded while the consumer stalls', async (t) => {
  const release = gate()
  const reading = gate()
  const { app, server } = await start(t, (app) => {
    app.post('/up', { bodyStream: true, bodyLimit: 64 * 1024 * 1024 }, async (req) => {
      const s = req.stream()
      reading.open()
      await release.p // the consumer stalls: nothing is read
      return digest(s)
    })
  })
  const total = 24 * 1024 * 1024
  const piece = bytes(64 * 1024, 7) // one buffer written again and again: the client allocates nothing
  const expect = createHash('sha256')
  for (let at = 0; at < total; at += piece.length) expect.update(piece)
  const c = await connect(t, server.port)
  const before = process.memoryUsage().arrayBuffers
  await c.write(Buffer.from(`POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${total}\r\n\r\n`))
  await reading.p
  // Write while the kernel takes it; stop when it has not drained for 300 ms.
  let sent = 0
  while (sent < total) {
    const ok = c.socket.write(piece)
    sent += piece.length
    if (!ok) {
      const drained = await Promise.race([new Promise((resolve) => c.socket.once('drain', () => resolve(true))), delay(300).then(() => false)])
      if (!drained) break
    }
  }
  t.ok(sent < total, `the server stopped reading (${(sent / 1048576).toFixed(1)} MiB of 24 MiB sent)`)
  const grown = process.memoryUsage().arrayBuffers - before
  t.ok(grown < 8 * 1024 * 1024, `arrayBuffers grew by ${(grown / 1048576).toFixed(2)} MiB while stalled (bound 8 MiB)`)
  release.open()
  const rest = async () => {
    while (sent < total) {
      if (!c.socket.write(piece)) await new Promise((resolve) => c.socket.once('drain', resolve))
      sent += piece.length
    }
  }
  await rest()
  const [r] = await c.readResponses(1, { timeout: 30000 })
  t.equal(r.status, 200)
  t.same(JSON.parse(r.body).len, total)
  t.equal(JSON.parse(r.body).sha, expect.digest('hex'), 'sha256 of 24 MiB')
})

t.test('bodyLimit: Content-Length over it is 413 before the handler; a chunked body past it fails mid-stream, 413, close', async (t) => {
  let ran = 0
  let got = -1
  let failure = null
  const { server } = await start(t, (app) => {
    app.post('/lim', { bodyStream: true, bodyLimit: 1000 }, async (req) => {
      ran++
      got = 0
      try {
        await pipeline(req.stream(), new Writable({ write (c, _e, cb) { got += c.length; cb() } }))
      } catch (err) {
        failure = err
        throw err
      }
      return `ok ${got}`
    })
  })
  let c = await connect(t, server.port)
  await c.write(post('/lim', bytes(1001)))
  let { responses } = await c.readUntilClose()
  t.equal(responses[0].status, 413)
  t.equal(JSON.parse(responses[0].body).code, 'SALVO_ERR_BODY_TOO_LARGE')
  t.equal(ran, 0, 'the handler did not run')
  c = await connect(t, server.port)
  await c.write(post('/lim', bytes(1000)))
  const [ok] = await c.readResponses(1)
  t.equal(String(ok.body), 'ok 1000', 'exactly the limit passes')
  await c.write(chunkedHead('/lim'))
  await c.write(chunked(bytes(600), [600]).subarray(0, 608)) // the first chunk
  await until(() => got === 600, 'first chunk read')
  await c.write(chunked(bytes(600), [600]).subarray(0, 608)) // a second one passes the limit
  ;({ responses } = await c.readUntilClose())
  t.equal(responses.length, 1)
  t.equal(responses[0].status, 413)
  t.equal(JSON.parse(responses[0].body).code, 'SALVO_ERR_BODY_TOO_LARGE')
  t.equal(responses[0].headers.connection, 'close')
  t.equal(failure?.code, 'SALVO_ERR_BODY_TOO_LARGE', 'the stream failed with the 413')
  t.equal(ran, 2)
})

t.test('a client that goes away mid-body: the stream fails with SALVO_ERR_BODY_ABORTED, nothing leaks', async (t) => {
  const failed = gate()
  const { server } = await start(t, (app) => {
    app.post('/up', { bodyStream: true }, async (req) => {
      try {
        await digest(req.stream())
        failed.open(null)
      } catch (err) {
        failed.open(err)
      }
      return 'never seen'
    })
  })
  for (const how of ['end', 'destroy']) {
    const c = await connect(t, server.port)
    const wire = post('/up', bytes(100000))
    await c.write(wire.subarray(0, 30000))
    await delay(20)
    if (how === 'end') c.socket.end()
    else c.socket.destroy()
    const err = await failed.p
    t.equal(err?.code, 'SALVO_ERR_BODY_ABORTED', `${how}: code`)
    t.match(err?.message, /^aborted/, `${how}: message`)
    await until(() => server.stats().connections === 0, 'connection freed')
    Object.assign(failed, gate())
  }
  t.equal(server.stats().slabs, 0, 'no slab held')
})

t.test('a handler that never reads: the route timeout answers 503 and the connection closes, nothing leaks', async (t) => {
  const { server } = await start(t, (app) => {
    app.post('/stall', { bodyStream: true, bodyLimit: 64 * 1024 * 1024, timeout: 300 }, (req) => {
      req.stream()
      return new Promise(() => {}) // never reads, never answers
    })
  })
  const c = await connect(t, server.port)
  await c.write(Buffer.from('POST /stall HTTP/1.1\r\nHost: x\r\nContent-Length: 33554432\r\n\r\n'))
  const piece = Buffer.alloc(64 * 1024)
  // Keep sending while the kernel takes it (bounded: at most the body).
  let sent = 0
  const pump = (async () => {
    while (sent < 32 * 1024 * 1024 && !c.socket.destroyed) {
      sent += piece.length
      if (!c.socket.write(piece)) {
        const more = await Promise.race([new Promise((resolve) => c.socket.once('drain', () => resolve(true))), delay(2000).then(() => false)])
        if (!more) return
      }
    }
  })()
  const { responses } = await c.readUntilClose()
  await pump
  t.equal(responses.length, 1)
  t.equal(responses[0].status, 503)
  t.equal(JSON.parse(responses[0].body).code, 'SALVO_ERR_HANDLER_TIMEOUT')
  t.equal(responses[0].headers.connection, 'close', 'the body was not read: the answer closes')
  await until(() => server.stats().connections === 0, 'connection freed')
  t.equal(server.stats().slabs, 0, 'no slab held')
})

t.test('the bodyTimeout closes a streamed body that does not arrive in time', async (t) => {
  const failed = gate()
  const { server } = await start(t, (app) => {
    app.post('/up', { bodyStream: true }, async (req) => {
      try { await digest(req.stream()) } catch (err) { failed.open(err) }
      return 'x'
    })
  }, { bodyTimeout: 300 })
  const c = await connect(t, server.port)
  await c.write(post('/up', bytes(1000)).subarray(0, 500))
  t.ok(await c.closedWithin(5000), 'closed')
  t.equal((await failed.p).code, 'SALVO_ERR_BODY_ABORTED')
  await until(() => server.stats().connections === 0, 'connection freed')
})

t.test('requests pipelined behind a streamed one are answered in order', async (t) => {
  const { server } = await start(t, (app) => {
    hashRoute(app)
    app.get('/next', () => 'next')
    app.post('/buffered', (req) => `buffered ${req.body.length}`)
  })
  const c = await connect(t, server.port)
  const a = bytes(90000)
  const b = bytes(20, 8)
  await c.write(Buffer.concat([
    post('/up', a), get('/next'),
    chunkedHead('/up'), chunked(b, [3]), post('/buffered', 'abc'), get('/next'),
  ]))
  const rs = await c.readResponses(5)
  t.same(rs.map((r) => r.status), [200, 200, 200, 200, 200])
  t.same(JSON.parse(rs[0].body), { len: a.length, sha: sha(a) })
  t.equal(String(rs[1].body), 'next')
  t.same(JSON.parse(rs[2].body), { len: 20, sha: sha(b) })
  t.equal(String(rs[3].body), 'buffered 3')
  t.equal(String(rs[4].body), 'next')
})

t.test('an answer decided before the body has ended says Connection: close and closes', async (t) => {
  const { server } = await start(t, (app) => {
    app.post('/deny', { bodyStream: true }, (req, res) => res.status(401).send('no'))
    app.post('/later', { bodyStream: true }, async () => { await delay(10); return 'early' })
    hashRoute(app)
  })
  for (const url of ['/deny', '/later']) {
    const c = await connect(t, server.port)
    // The whole body is on its way, and a request behind it: it is not answered.
    await c.write(Buffer.concat([post(url, bytes(200000)), get('/up')]))
    const { responses } = await c.readUntilClose()
    t.equal(responses.length, 1, `${url}: one answer`)
    t.equal(responses[0].headers.connection, 'close', `${url}: Connection: close`)
    t.equal(responses[0].status, url === '/deny' ? 401 : 200)
  }
  // Answered after the whole body was read: keep-alive as the head asked.
  const c = await connect(t, server.port)
  await c.write(post('/up', bytes(10)))
  const [r] = await c.readResponses(1)
  t.not(r.headers.connection, 'close')
  const c10 = await connect(t, server.port)
  await c10.write(post('/up', bytes(10), { headers: { Connection: 'close' } }))
  const { responses } = await c10.readUntilClose()
  t.equal(responses[0].headers.connection, 'close', 'a head that asked for close still closes')
})

t.test('Expect: 100-continue: 100 once the head is in, then the body, then the answer', async (t) => {
  const { server } = await start(t, (app) => hashRoute(app))
  const c = await connect(t, server.port)
  const body = bytes(5000)
  await c.write(Buffer.from(`POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`))
  const [cont] = await c.readResponses(1)
  t.equal(cont.status, 100)
  await c.write(body)
  const [r] = await c.readResponses(1)
  t.same(JSON.parse(r.body), { len: body.length, sha: sha(body) })
})

t.test('inject() streams the body too; req.stream() on a buffered route yields the body', async (t) => {
  const { App } = salvo()
  const app = new App()
  hashRoute(app)
  app.post('/buf', async (req) => digest(req.stream()))
  const body = bytes(100000)
  let r = await app.inject({ method: 'POST', url: '/up', body })
  t.same(r.json(), { len: body.length, sha: sha(body) })
  r = await app.inject({ method: 'POST', url: '/buf', body })
  t.same(r.json(), { len: body.length, sha: sha(body), chunks: 1 })
})

t.test('a streamed route with hooks: the stream is there in an async onRequest hook and after', async (t) => {
  const { server } = await start(t, (app) => {
    app.addHook('onRequest', async () => { await delay(5) })
    app.post('/up', { bodyStream: true, preHandler: async () => { await delay(5) } }, async (req) => digest(req.stream()))
  })
  const c = await connect(t, server.port)
  const body = bytes(150000)
  await c.write(post('/up', body))
  const [r] = await c.readResponses(1)
  t.equal(JSON.parse(r.body).sha, sha(body))
})

t.test('registration: bodyStream is a boolean, excludes schema.body, lets bodyLimit pass maxBodySize', async (t) => {
  const { App } = salvo()
  const app = new App()
  throwsCode(t, () => app.post('/a', { bodyStream: 'yes' }, () => 'x'), 'SALVO_ERR_INVALID_ARG')
  throwsCode(t, () => app.post('/b', { bodyStream: true, schema: { body: { type: 'object' } } }, () => 'x'), 'SALVO_ERR_INVALID_ARG')
  throwsCode(t, () => app.post('/c', { bodyStream: true, bodyLimit: 0 }, () => 'x'), 'SALVO_ERR_INVALID_ARG')
  throwsCode(t, () => app.post('/d', { bodyLimit: 2 * 1024 * 1024 }, () => 'x'), 'SALVO_ERR_INVALID_ARG', 'a buffered route stays under maxBodySize')
  app.post('/e', { bodyStream: true, bodyLimit: 2 ** 40 }, () => 'x')
  t.pass('a streamed route may have a bodyLimit past maxBodySize')
})

t.test('no body, and a path only the JS router matches (buffered, then streamed from the copy)', async (t) => {
  let streamed = null
  const { server } = await start(t, (app) => {
    app.post('/f/:name', { bodyStream: true }, async (req) => {
      const d = await digest(req.stream())
      streamed = d.chunks
      return { name: req.params.name, len: d.len, sha: d.sha }
    })
  })
  const c = await connect(t, server.port)
  await c.write(post('/f/plain', ''))
  let [r] = await c.readResponses(1)
  t.same(JSON.parse(r.body), { name: 'plain', len: 0, sha: sha(Buffer.alloc(0)) }, 'no body: an empty stream')
  const body = bytes(3000)
  await c.write(post('/f/a%20b', body))
  ;[r] = await c.readResponses(1)
  t.same(JSON.parse(r.body), { name: 'a b', len: 3000, sha: sha(body) }, 'a %-escaped path: the JS router, a buffered body')
  t.equal(streamed, 1, 'one chunk: the buffered copy')
  await c.write(post('/f/a%20b', bytes(2 * 1024 * 1024)))
  const { responses } = await c.readUntilClose()
  t.equal(responses[0].status, 413, 'buffered, so maxBodySize bounds it')
})
