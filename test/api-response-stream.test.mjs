// API spec, "Reply (res)" streaming items: res.write()/res.end() (chunked on 1.1, close-delimited
// on 1.0), res.stream(readable), backpressure (res.write() false, res.drained()), order and HEAD.

import t from 'tap'
import net from 'node:net'
import { Readable } from 'node:stream'
import { createHash } from 'node:crypto'
import { forBoth, listenApp, buildRequest, until, delay, withTimeout } from './helpers/api.mjs'
import { connect, parseOneResponse } from './helpers/raw-client.mjs'
import { patternChunk, MB } from './helpers/pattern.mjs'

// ---- streaming -------------------------------------------------------------------

forBoth(t, 'res.write()/res.end(): chunked on HTTP/1.1', {
  setup (app) {
    app.get('/w', (req, res) => {
      const r1 = res.write('one,')
      const r2 = res.write(Buffer.from('two,'))
      app.__ret = [typeof r1, typeof r2]
      setTimeout(() => { res.write(new Uint8Array([116, 104, 114, 101, 101, 44])); res.end('end') }, 5)
    })
    app.get('/w-async', async (req, res) => {
      res.status(206).header('X-S', '1').type('text/csv')
      for (let i = 0; i < 5; i++) {
        if (!res.write(`${i};`)) await res.drained()
        await delay(1)
      }
      res.end()
    })
    app.get('/end-only', (req, res) => { res.end('just end') })
    app.get('/end-empty', (req, res) => { res.end() })
  }
}, async (t, { request, app, mode }) => {
  const r = await request({ url: '/w' })
  t.equal(r.statusCode, 200)
  t.equal(r.body, 'one,two,three,end')
  t.same(app.__ret, ['boolean', 'boolean'], 'write returns a boolean')
  t.equal(r.headers['transfer-encoding'], 'chunked')
  t.notOk('content-length' in r.headers)
  if (mode === 'socket') t.match(r.head, /\r\nTransfer-Encoding: chunked\r\n/i)
  const a = await request({ url: '/w-async' })
  t.equal(a.statusCode, 206)
  t.equal(a.headers['x-s'], '1')
  t.equal(a.headers['content-type'], 'text/csv')
  t.equal(a.body, '0;1;2;3;4;')
  const e = await request({ url: '/end-only' })
  t.equal(e.body, 'just end')
  const e2 = await request({ url: '/end-empty' })
  t.equal(e2.statusCode, 200)
  t.equal(e2.body, '')
})

t.test('streaming on HTTP/1.0: no chunked coding, the connection closes at the end', async (t) => {
  const { port } = await listenApp(t, {
    setup (app) {
      app.get('/w10', async (req, res) => {
        res.write('alpha ')
        await delay(5)
        res.write('beta ')
        res.end('gamma')
      })
    }
  })
  const c = await connect(t, port)
  await c.write(buildRequest({ url: '/w10', version: '1.0', headers: { Connection: 'keep-alive' } }))
  const { responses, rest } = await c.readUntilClose()
  t.equal(responses.length, 1, `one response (rest ${rest.length})`)
  const r = responses[0]
  t.notOk('transfer-encoding' in r.headers, 'no Transfer-Encoding on 1.0')
  t.notOk('content-length' in r.headers)
  t.equal(r.text, 'alpha beta gamma', 'body delimited by close')
})

forBoth(t, 'await res.stream(readable) pipes a Node Readable, then ends', {
  setup (app) {
    app.get('/stream', async (req, res) => {
      const parts = ['a', 'bb', Buffer.from('ccc'), 'dddd']
      await res.stream(Readable.from(parts))
      app.__after = res.sent
    })
    app.get('/stream-obj', async (req, res) => {
      res.type('application/x-ndjson')
      await res.stream(Readable.from((function * () { for (let i = 0; i < 100; i++) yield JSON.stringify({ i }) + '\n' })()))
    })
  }
}, async (t, { request, app }) => {
  const r = await request({ url: '/stream' })
  t.equal(r.body, 'abbcccdddd')
  t.equal(app.__after, true)
  const o = await request({ url: '/stream-obj' })
  t.equal(o.headers['content-type'], 'application/x-ndjson')
  const lines = o.body.trim().split('\n').map((l) => JSON.parse(l).i)
  t.same(lines, [...Array(100).keys()])
})

/** A client socket that does not read until told to; collects everything after. */
async function pausedClient (t, port) {
  const sock = net.connect({ port, host: '127.0.0.1' })
  await withTimeout(new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject) }), 10_000, 'connect')
  sock.pause()
  t.teardown(() => sock.destroy())
  const chunks = []
  let total = 0
  return {
    sock,
    write: (b) => new Promise((resolve, reject) => sock.write(b, (e) => (e ? reject(e) : resolve()))),
    startReading () {
      sock.on('data', (c) => { chunks.push(c); total += c.length })
      sock.resume()
    },
    get total () { return total },
    bytes: () => Buffer.concat(chunks)
  }
}

const TOTAL = 48 * MB
const CHUNK = 64 * 1024

for (const variant of ['writes from the first tick', 'writes after an await']) {
t.test(`backpressure (${variant}): res.write() returns false and res.drained() holds a writer whose client does not read`, async (t) => {
  const st = { written: 0, falses: 0, drainAwaits: 0, waiting: false, done: false, error: null }
  const { port } = await listenApp(t, {
    options: { highWaterMark: 256 * 1024 },
    setup (app) {
      app.get('/big', async (req, res) => {
        try {
          if (variant === 'writes after an await') await delay(1)
          res.type('application/octet-stream')
          for (let off = 0; off < TOTAL; off += CHUNK) {
            const ok = res.write(patternChunk(off, CHUNK))
            st.written = off + CHUNK
            if (ok === false) {
              st.falses++
              st.drainAwaits++
              st.waiting = true
              await res.drained()
              st.waiting = false
            }
          }
          res.end()
          st.done = true
        } catch (err) { st.error = err }
      })
    }
  })
  const c = await pausedClient(t, port)
  const m0 = process.memoryUsage()
  await c.write(buildRequest({ url: '/big' }))
  await until(() => st.waiting || st.done || st.error, 'handler blocked on drained()', 20_000)
  t.notOk(st.error, 'no error in the handler')
  t.ok(st.falses > 0, `write() returned false (after ${st.written} bytes)`)
  // While the client does not read, the writer makes (almost) no progress.
  await delay(300)
  const w1 = st.written
  await delay(500)
  const w2 = st.written
  const m1 = process.memoryUsage()
  const memGrowth = Math.max(m1.arrayBuffers - m0.arrayBuffers, m1.rss - m0.rss)
  t.notOk(st.done, 'the handler did not finish while the client was not reading')
  t.ok(w2 < TOTAL / 2, `bounded: ${(w2 / MB).toFixed(1)} MiB written of ${TOTAL / MB} MiB while paused`)
  t.ok(w2 - w1 <= 8 * MB, `stalled: ${w1} -> ${w2}`)
  t.ok(memGrowth < 36 * MB, `server-side buffers did not grow unboundedly (+${(memGrowth / MB).toFixed(1)} MiB)`)
  c.startReading()
  await until(() => st.done || st.error, 'handler finished after the client read', 60_000)
  const want = TOTAL
  let parsed = null
  await until(() => {
    if (c.total < want) return false
    parsed = parseOneResponse(c.bytes(), false)
    return parsed !== null
  }, 'all bytes arrived', 60_000)
  const body = parsed.response.body
  t.equal(parsed.response.status, 200)
  t.equal(parsed.response.headers['transfer-encoding'], 'chunked')
  t.equal(body.length, TOTAL, 'every byte arrived')
  const expect = createHash('sha256')
  for (let off = 0; off < TOTAL; off += CHUNK) expect.update(patternChunk(off, CHUNK))
  t.equal(createHash('sha256').update(body).digest('hex'), expect.digest('hex'), 'bytes in order')
  t.ok(st.drainAwaits > 0, `drained() awaited ${st.drainAwaits} times`)
})
}

t.test('backpressure: res.stream(readable) pulls only as fast as the client reads', async (t) => {
  const st = { produced: 0, done: false, error: null }
  const { port } = await listenApp(t, {
    options: { highWaterMark: 256 * 1024 },
    setup (app) {
      app.get('/piped', async (req, res) => {
        let off = 0
        const readable = new Readable({
          highWaterMark: CHUNK,
          read () {
            if (off >= TOTAL) { this.push(null); return }
            const c = patternChunk(off, CHUNK)
            off += CHUNK
            st.produced = off
            this.push(c)
          }
        })
        try {
          await res.stream(readable)
          st.done = true
        } catch (err) { st.error = err }
      })
    }
  })
  const c = await pausedClient(t, port)
  await c.write(buildRequest({ url: '/piped' }))
  await until(() => st.produced > 0, 'stream started')
  // Let it run into the backpressure, then check that production stalls.
  let last = -1
  for (let i = 0; i < 50 && st.produced !== last; i++) { last = st.produced; await delay(200) }
  t.notOk(st.error)
  t.notOk(st.done, 'not finished while the client does not read')
  t.ok(st.produced < TOTAL / 2, `readable pulled ${(st.produced / MB).toFixed(1)} MiB of ${TOTAL / MB} MiB while paused`)
  c.startReading()
  await until(() => st.done || st.error, 'stream finished', 60_000)
  t.notOk(st.error)
  let parsed = null
  await until(() => {
    if (c.total < TOTAL) return false
    parsed = parseOneResponse(c.bytes(), false)
    return parsed !== null
  }, 'all bytes arrived', 60_000)
  const body = parsed.response.body
  t.equal(body.length, TOTAL)
  const expect = createHash('sha256')
  for (let off = 0; off < TOTAL; off += CHUNK) expect.update(patternChunk(off, CHUNK))
  t.equal(createHash('sha256').update(body).digest('hex'), expect.digest('hex'), 'bytes in order')
})

forBoth(t, 'streaming several MB arrives complete and in order', {
  setup (app) {
    app.get('/mb', async (req, res) => {
      for (let off = 0; off < 4 * MB; off += CHUNK) {
        if (!res.write(patternChunk(off, CHUNK))) await res.drained()
      }
      res.end()
    })
  }
}, async (t, { request }) => {
  const r = await request({ url: '/mb' }, { timeout: 30_000 })
  t.equal(r.rawBody.length, 4 * MB)
  t.ok(r.rawBody.equals(patternChunk(0, 4 * MB)), 'content in order')
})

t.test('a streamed response followed by pipelined requests keeps order', async (t) => {
  const { port } = await listenApp(t, {
    setup (app) {
      app.get('/s', async (req, res) => {
        for (let i = 0; i < 5; i++) { res.write(`s${i} `); await delay(2) }
        res.end()
      })
      app.get('/n/:i', (req) => `n${req.params.i}`)
    }
  })
  const c = await connect(t, port)
  await c.write(Buffer.concat([buildRequest({ url: '/n/0' }), buildRequest({ url: '/s' }), buildRequest({ url: '/n/1' }), buildRequest({ url: '/s' }), buildRequest({ url: '/n/2' })]))
  const rs = await c.readResponses(5)
  t.same(rs.map((r) => r.text), ['n0', 's0 s1 s2 s3 s4 ', 'n1', 's0 s1 s2 s3 s4 ', 'n2'])
})

t.test('HEAD of a streamed GET route: a head only, the next pipelined response intact', async (t) => {
  const { port } = await listenApp(t, {
    setup (app) {
      app.get('/sh', async (req, res) => { res.write('part1 '); await delay(2); res.end('part2') })
      app.get('/after', () => 'after')
    }
  })
  const c = await connect(t, port)
  await c.write(Buffer.concat([buildRequest({ url: '/sh', method: 'HEAD' }), buildRequest({ url: '/after' })]))
  await c._waitFor(() => (c.buf.includes('\r\n\r\nafter') || c.ended ? true : undefined), 10_000, 'the second response')
  const s = c.buf.toString('latin1')
  const headEnd = s.indexOf('\r\n\r\n') + 4
  t.match(s.slice(0, headEnd), /^HTTP\/1\.1 200 OK\r\n/, 'HEAD answered 200')
  t.notOk(s.includes('part1') || s.includes('part2'), 'no body bytes')
  t.ok(s.slice(headEnd).startsWith('HTTP/1.1 200 OK\r\n'), `the next response starts right after the HEAD head: ${JSON.stringify(s.slice(headEnd, headEnd + 20))}`)
})
