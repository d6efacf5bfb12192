// Security audit, isolation between requests and connections (items 1, 2, 3, 12, 13):
// a request or reply kept past its answer never reads or writes another request's data;
// a stream written from another connection's batch does not overwrite that batch's output;
// onError hooks cannot answer; close() inside a batch loses nothing; req.signal on FIN.
import t from 'tap'
import { connect, get, post } from './helpers/raw-client.mjs'
import { start, pollUntil, gate, rawSocket, closedWithin, withTimeout, delay } from './helpers/security-util.mjs'

const ENDED = 'SALVO_ERR_REQUEST_ENDED'
const safeJson = (s) => { try { return JSON.parse(s) } catch { return undefined } }

t.test('1: a reply kept past its answer cannot answer another request', async (t) => {
  const caught = []
  const bStarted = gate()
  const lateDone = gate()
  const { port } = await start(t, {}, (app) => {
    app.get('/a', (req, res) => {
      res.send('for alice')
      // Runs once /b is in its handler (on the other connection), then /b answers.
      bStarted.p.then(() => setTimeout(() => {
        try { res.header('X-Leak', 'alice') } catch (e) { caught.push('header:' + e.code) }
        try { res.send('alice private data') } catch (e) { caught.push('send:' + e.code) }
        lateDone.open()
      }, 30))
    })
    app.get('/b', async () => {
      bStarted.open()
      await Promise.race([lateDone.p, delay(3000)])
      return 'bob'
    })
  })
  const c1 = await connect(t, port)
  const c2 = await connect(t, port)
  await c1.write(get('/a'))
  const [r1] = await c1.readResponses(1, { timeout: 5000 })
  t.equal(r1.text, 'for alice')
  await c2.write(get('/b'))
  const [r2] = await c2.readResponses(1, { timeout: 5000 })
  t.equal(r2.text, 'bob', 'client 2 gets its own answer')
  t.equal(r2.headers['x-leak'], undefined, 'no header from the other request')
  t.notOk(r2.text.includes('alice'), 'no body from the other request')
  t.ok(caught.includes('send:SALVO_ERR_ALREADY_SENT'), `the late send() throws ALREADY_SENT (caught ${JSON.stringify(caught)})`)
  t.ok(caught.includes('header:SALVO_ERR_ALREADY_SENT'), `the late header() throws ALREADY_SENT (caught ${JSON.stringify(caught)})`)
  await delay(50)
  t.equal(c1.buf.length, 0, 'client 1 got nothing after its answer')
  t.equal(c2.buf.length, 0, 'client 2 got nothing after its answer')
})

/** Read `fn()`; { value } or { code } when it throws. */
function probe (fn) {
  try { return { value: fn() } } catch (e) { return { code: e?.code ?? String(e) } }
}

t.test('1: a kept request reads its own headers and url, or throws REQUEST_ENDED', async (t) => {
  let kept = null
  const reads = []
  const { port } = await start(t, {}, (app) => {
    app.get('/keep', (req) => { kept = req; return 'kept' })
    app.get('/other', (req) => {
      reads.push({
        headers: probe(() => kept.headers.authorization),
        header: probe(() => kept.header('authorization')),
        url: probe(() => kept.url)
      })
      return 'other'
    })
  })
  const a = await connect(t, port)
  const b = await connect(t, port)
  await a.write(get('/keep', { headers: { Authorization: 'Bearer secret-of-A' } }))
  t.equal((await a.readResponses(1))[0].text, 'kept')
  await b.write(get('/other', { headers: { Authorization: 'Bearer secret-of-B' } }))
  t.equal((await b.readResponses(1))[0].text, 'other')
  t.equal(reads.length, 1)
  const r = reads[0]
  for (const [what, got, own] of [['headers.authorization', r.headers, 'Bearer secret-of-A'], ['header()', r.header, 'Bearer secret-of-A'], ['url', r.url, '/keep']]) {
    t.ok(got.code === ENDED || got.value === own, `${what} of the kept request: its own value or ${ENDED} (got ${JSON.stringify(got)})`)
    t.notOk(JSON.stringify(got).includes('secret-of-B') || got.value === '/other', `${what}: never the other request's data`)
  }
})

t.test('1: a kept request read later from a timer never shows a later request', async (t) => {
  let kept = null
  const { port } = await start(t, {}, (app) => {
    app.get('/keep', (req) => { kept = req; return 'kept' })
    app.get('/other', () => 'other')
  })
  const a = await connect(t, port)
  await a.write(get('/keep', { headers: { Authorization: 'Bearer secret-of-A' } }))
  await a.readResponses(1)
  const b = await connect(t, port)
  await b.write(get('/other', { headers: { Authorization: 'Bearer secret-of-B' } }))
  await b.readResponses(1)
  const got = probe(() => kept.headers.authorization)
  t.ok(got.code === ENDED || got.value === 'Bearer secret-of-A', `own value or ${ENDED} (got ${JSON.stringify(got)})`)
  const url = probe(() => kept.url)
  t.ok(url.code === ENDED || url.value === '/keep', `url: own value or ${ENDED} (got ${JSON.stringify(url)})`)
})

t.test('1: a kept req.body Buffer never changes to another request\'s bytes', async (t) => {
  let keptBody = null
  let keptCopy = null
  let keptReq = null
  const { port } = await start(t, {}, (app) => {
    app.post('/kb', (req) => {
      if (keptBody === null) { keptReq = req; keptBody = req.body; keptCopy = Buffer.from(req.body) }
      return `len=${req.body.length}`
    })
  })
  const N = 2000
  const a = await connect(t, port)
  await a.write(post('/kb', 'A'.repeat(N)))
  t.equal((await a.readResponses(1))[0].text, `len=${N}`)
  a.destroy() // its read buffer can go back to the pool
  await delay(50)
  for (let i = 0; i < 3; i++) {
    const b = await connect(t, port)
    await b.write(post('/kb', 'B'.repeat(N)))
    t.equal((await b.readResponses(1))[0].text, `len=${N}`)
    if (i === 0) b.destroy()
  }
  t.ok(Buffer.isBuffer(keptBody))
  t.equal(keptBody.includes(0x42), false, 'the kept Buffer holds none of B\'s bytes')
  t.ok(keptBody.equals(keptCopy) || !keptBody.includes(0x42), 'the kept Buffer is unchanged')
  const later = probe(() => keptReq.body)
  t.ok(later.code === ENDED || (Buffer.isBuffer(later.value) && !later.value.includes(0x42)), `req.body later: own bytes or ${ENDED} (got ${later.code ?? later.value?.toString('latin1', 0, 20)})`)
})

t.test('1: onResponse hooks of a pipelined batch each see their own request', async (t) => {
  const seen = []
  const { port } = await start(t, {}, (app) => {
    app.addHook('onResponse', (req) => { seen.push(req.method + ' ' + req.url) })
    app.get('/x', () => 'x')
    app.delete('/admin', () => 'deleted')
    app.get('/y', () => 'y')
  })
  const c = await connect(t, port)
  await c.write(Buffer.concat([get('/x'), get('/admin', { method: 'DELETE' }), get('/y')]))
  const rs = await c.readResponses(3)
  t.same(rs.map((r) => r.text), ['x', 'deleted', 'y'])
  await pollUntil(() => seen.length >= 3, 2000, 'three onResponse calls').catch(() => {})
  t.same(seen, ['GET /x', 'DELETE /admin', 'GET /y'], 'each hook saw its own method and url, in order')
})

t.test('2: a stream write from another connection during a batch does not overwrite its output', async (t) => {
  let subRes = null
  const { port } = await start(t, {}, (app) => {
    app.get('/sub', (req, res) => { subRes = res; res.write('sub-start\n') })
    app.get('/a', () => 'A-one')
    app.post('/pub', () => { subRes.write('PUBLISHED\n'); return 'pub-ok' })
  })
  const b = await connect(t, port)
  await b.write(get('/sub'))
  await pollUntil(() => b.buf.includes('sub-start'), 5000, 'the stream started')
  const a = await connect(t, port)
  await a.write(Buffer.concat([get('/a'), post('/pub', 'x')]))
  const rs = await a.readResponses(2, { timeout: 5000 })
  t.same(rs.map((r) => [r.status, r.text]), [[200, 'A-one'], [200, 'pub-ok']], 'A gets exactly its two answers')
  await pollUntil(() => b.buf.includes('PUBLISHED\n'), 5000, 'B got the published chunk').catch(() => {})
  t.ok(b.buf.includes('PUBLISHED\n'), 'B received PUBLISHED in its stream')
  t.notOk(b.buf.includes('A-one') || b.buf.includes('pub-ok'), 'B got none of A\'s answers')
  await delay(50)
  t.equal(a.peek().rest.length, 0, 'nothing else reached A')
  t.notOk(a.buf.includes('PUBLISHED'), 'A got none of B\'s stream')
  try { subRes.end() } catch {}
})

t.test('3: an onError hook cannot answer (sync and async handlers)', async (t) => {
  const { port } = await start(t, {}, (app) => {
    app.addHook('onError', (req, res) => { try { res.send('from hook') } catch {} })
    app.get('/sync', () => { throw new Error('sync boom') })
    app.get('/async', async () => { await delay(5); throw new Error('async boom') })
  })
  for (const path of ['/sync', '/async', '/sync', '/async']) {
    const c = await connect(t, port)
    await c.write(get(path))
    const [r] = await c.readResponses(1)
    t.equal(r.status, 500, `${path}: 500`)
    t.not(r.text, 'from hook', `${path}: not the hook's body`)
    t.equal(r.headers['content-type'], 'application/json; charset=utf-8', `${path}: the default error answer`)
    t.equal(safeJson(r.text)?.statusCode, 500, `${path}: JSON statusCode 500`)
    await delay(30)
    t.equal(c.peek().rest.length + c.peek().responses.length, 0, `${path}: exactly one response`)
    c.destroy()
  }
})

t.test('3: onError hook answer + async onSend + a client reset: the server stays correct, slabs return to 0', async (t) => {
  const payloads = []
  const onSendStarted = []
  let release = null
  const released = new Promise((resolve) => { release = resolve })
  const { port, server } = await start(t, {}, (app) => {
    app.addHook('onError', (req, res) => { try { res.send('from hook') } catch {} })
    app.get('/boom', async () => { await delay(5); throw new Error('boom') })
    app.get('/ok', () => 'ok')
    app.addHook('onSend', async (req, res, payload) => {
      payloads.push(String(typeof payload === 'string' ? payload : Buffer.from(payload)))
      onSendStarted.push(req.url)
      if (req.url === '/boom') await Promise.race([released, delay(3000)])
    })
  })
  const c = await connect(t, port)
  await c.write(get('/boom'))
  await pollUntil(() => onSendStarted.length > 0, 5000, 'onSend running')
  c.socket.resetAndDestroy()
  await delay(100)
  release()
  await delay(100)
  t.notOk(payloads.includes('from hook'), 'onSend never saw the onError hook\'s body')
  // The server still answers other clients correctly.
  for (let i = 0; i < 3; i++) {
    const d = await connect(t, port)
    await d.write(Buffer.concat([get('/ok'), get('/boom'), get('/ok')]))
    const rs = await d.readResponses(3, { timeout: 5000 })
    t.same(rs.map((r) => r.status), [200, 500, 200], `client ${i}: statuses`)
    t.same([rs[0].text, rs[2].text], ['ok', 'ok'])
    t.not(rs[1].text, 'from hook')
    d.destroy()
  }
  t.notOk(payloads.includes('from hook'), 'no onSend ever saw the onError hook\'s body')
  const ok = await pollUntil(() => server.stats().connections === 0 && server.stats().slabs === 0, 3000, 'slabs back to 0').then(() => true, () => false)
  t.ok(ok, `no slab left once every connection closed (slabs=${server.stats().slabs}, connections=${server.stats().connections})`)
})

t.test('12: server.close() inside the middle handler of a pipelined batch: all 3 answers arrive', async (t) => {
  let server = null
  let closing = null
  const ctx = await start(t, {}, (app) => {
    app.get('/one', () => 'one')
    app.get('/close', () => { closing = server.close({ timeout: 2000 }); return 'closing' })
    app.get('/three', () => 'three')
  })
  server = ctx.server
  const c = await connect(t, ctx.port)
  await c.write(Buffer.concat([get('/one'), get('/close'), get('/three')]))
  const { responses } = await c.readUntilClose({ timeout: 5000 })
  t.same(responses.map((r) => r.text), ['one', 'closing', 'three'], 'every response reached the client before the close')
  t.ok(closing, 'close() was called')
  if (closing) await withTimeout(Promise.resolve(closing), 5000, 'close()').catch((e) => t.fail(e.message))
})

for (const how of ['end', 'destroy']) {
  t.test(`13: req.signal aborts when the client goes away normally (socket.${how}())`, async (t) => {
    const signals = []
    let aborts = 0
    const { port } = await start(t, {}, (app) => {
      app.get('/never', (req) => {
        signals.push(req.signal)
        req.signal.addEventListener('abort', () => { aborts++ })
        return new Promise(() => {})
      })
    })
    const s = await rawSocket(t, port)
    s.write(get('/never'))
    await pollUntil(() => signals.length === 1, 5000, 'handler running')
    if (how === 'end') s.end()
    else s.destroy()
    const ok = await pollUntil(() => signals[0].aborted, 2000, 'signal aborted').then(() => true, () => false)
    t.ok(ok, 'req.signal aborted within 2 s')
    t.equal(aborts, ok ? 1 : 0, 'the abort listener ran once')
    if (how === 'end') await closedWithin(s, 1000)
  })
}
