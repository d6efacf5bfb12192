// API spec, "Async + pipelining": responses leave in request order on every connection,
// whatever order handlers finish in; no cap on the number pending; mixed sync/async;
// a request stays readable after await. Completion order is forced with gates the test
// opens (no timing assumptions).

import t from 'tap'
import { listenApp, salvo, buildRequest, gate, until, delay, withTimeout } from './helpers/api.mjs'
import { connect } from './helpers/raw-client.mjs'

/** An app whose /g/:id handlers wait for the test to open gate id. */
function gatedSetup (gates, arrived) {
  return (app) => {
    app.post('/g/:id', async (req) => {
      const id = req.params.id
      arrived.push(id)
      if (!gates.has(id)) gates.set(id, gate())
      await gates.get(id).p
      return { id, q: req.query.q, h: req.header('x-id'), body: req.body.toString() }
    })
    app.get('/sync/:id', (req) => `sync ${req.params.id} ${req.query.q}`)
    app.get('/cb/:id', (req, res) => {
      const id = req.params.id
      arrived.push(`cb${id}`)
      if (!gates.has(`cb${id}`)) gates.set(`cb${id}`, gate())
      gates.get(`cb${id}`).p.then(() => res.send(`cb ${id}`))
    })
  }
}

const reqFor = (i) => buildRequest({ method: 'POST', url: `/g/${i}?q=q${i}`, headers: { 'X-Id': `h${i}` }, body: `body ${i} `.repeat((i % 7) + 1) })
const expectFor = (i) => ({ id: String(i), q: `q${i}`, h: `h${i}`, body: `body ${i} `.repeat((i % 7) + 1) })

t.test('pipelined async handlers finishing in reverse order: responses in request order', async (t) => {
  const gates = new Map()
  const arrived = []
  const { port } = await listenApp(t, { setup: gatedSetup(gates, arrived) })
  const c = await connect(t, port)
  const N = 10
  await c.write(Buffer.concat([...Array(N).keys()].map(reqFor)))
  await until(() => arrived.length === N, `all ${N} handlers started`)
  t.equal(c.buf.length, 0, 'nothing sent before any handler finished')
  // Finish the last first; nothing may be sent until the first is done.
  for (let i = N - 1; i >= 1; i--) gates.get(String(i)).open()
  await delay(50)
  t.equal(c.buf.length, 0, 'answers 1..N-1 wait for answer 0')
  gates.get('0').open()
  const rs = await c.readResponses(N)
  rs.forEach((r, i) => t.same(JSON.parse(r.text), expectFor(i), `response ${i} in place`))
})

t.test('150 pending on one connection, finished in a shuffled order', async (t) => {
  const gates = new Map()
  const arrived = []
  const { port } = await listenApp(t, { setup: gatedSetup(gates, arrived) })
  const c = await connect(t, port)
  const N = 150
  const all = Buffer.concat([...Array(N).keys()].map(reqFor))
  // In several writes so that the requests span several reads.
  for (let off = 0; off < all.length; off += 4096) await c.write(all.subarray(off, off + 4096))
  await until(() => arrived.length === N, `all ${N} handlers pending (${arrived.length})`, 20_000)
  const order = [...Array(N).keys()]
  let seed = 12345
  for (let i = order.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    const j = seed % (i + 1);
    [order[i], order[j]] = [order[j], order[i]]
  }
  for (const i of order) {
    gates.get(String(i)).open()
    if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  const rs = await c.readResponses(N, { timeout: 20_000 })
  let bad = 0
  rs.forEach((r, i) => {
    const got = JSON.parse(r.text)
    if (got.id !== String(i) || got.body !== expectFor(i).body || got.h !== `h${i}` || got.q !== `q${i}`) { bad++; t.fail(`response ${i}: ${r.text.slice(0, 100)}`) }
  })
  t.equal(bad, 0, `${N} responses in request order, each with its own request's data`)
})

t.test('no cap on pending: 2500 async requests on one connection, finishing in mixed order', async (t) => {
  const { port } = await listenApp(t, {
    setup (app) {
      let n = 0
      app.get('/a/:i', async (req) => {
        const i = Number(req.params.i)
        // Finish after 0-3 macrotask turns: later requests often finish first.
        const turns = (n++ * 7) % 4
        for (let k = 0; k < turns; k++) await new Promise((resolve) => setImmediate(resolve))
        return `a${i}`
      })
    }
  })
  const c = await connect(t, port)
  const N = 2500
  const all = Buffer.concat([...Array(N).keys()].map((i) => buildRequest({ url: `/a/${i}` })))
  c.write(all).catch(() => {})
  const rs = await c.readResponses(N, { timeout: 60_000 })
  let bad = 0
  rs.forEach((r, i) => { if (r.text !== `a${i}`) { bad++; if (bad < 5) t.fail(`#${i}: ${r.text}`) } })
  t.equal(bad, 0, `${N} in order`)
})

t.test('mixed sync, async and callback-style handlers on one connection', async (t) => {
  const gates = new Map()
  const arrived = []
  const { port } = await listenApp(t, { setup: gatedSetup(gates, arrived) })
  const c = await connect(t, port)
  const plan = []
  for (let i = 0; i < 30; i++) plan.push(i % 3 === 0 ? 'sync' : i % 3 === 1 ? 'async' : 'cb')
  const wire = plan.map((kind, i) => kind === 'sync' ? buildRequest({ url: `/sync/${i}?q=${i}` }) : kind === 'async' ? reqFor(i) : buildRequest({ url: `/cb/${i}` }))
  await c.write(Buffer.concat(wire))
  const pending = plan.filter((k) => k !== 'sync').length
  await until(() => arrived.length === pending, 'async handlers started')
  // Open the gates from the back.
  for (let i = plan.length - 1; i >= 0; i--) {
    if (plan[i] === 'async') gates.get(String(i)).open()
    if (plan[i] === 'cb') gates.get(`cb${i}`).open()
    await new Promise((resolve) => setImmediate(resolve))
  }
  const rs = await c.readResponses(plan.length)
  rs.forEach((r, i) => {
    if (plan[i] === 'sync') t.equal(r.text, `sync ${i} ${i}`, `#${i} sync`)
    else if (plan[i] === 'async') t.same(JSON.parse(r.text), expectFor(i), `#${i} async`)
    else t.equal(r.text, `cb ${i}`, `#${i} callback`)
  })
})

t.test('sync answers behind a pending async one wait for it', async (t) => {
  const gates = new Map()
  const arrived = []
  const { port } = await listenApp(t, { setup: gatedSetup(gates, arrived) })
  const c = await connect(t, port)
  await c.write(Buffer.concat([reqFor(0), buildRequest({ url: '/sync/1?q=x' }), buildRequest({ url: '/sync/2?q=y' })]))
  await until(() => arrived.length === 1, 'async started')
  await delay(50)
  t.equal(c.buf.length, 0, 'the sync answers are held back')
  gates.get('0').open()
  const rs = await c.readResponses(3)
  t.same(rs.map((r) => r.text), [JSON.stringify(expectFor(0)), 'sync 1 x', 'sync 2 y'])
})

t.test('several connections: each keeps its own order', async (t) => {
  const gates = new Map()
  const arrived = []
  const { port } = await listenApp(t, { setup: gatedSetup(gates, arrived) })
  const conns = await Promise.all([0, 1, 2].map(() => connect(t, port)))
  for (let k = 0; k < 3; k++) {
    await conns[k].write(Buffer.concat([0, 1, 2, 3].map((j) => reqFor(k * 100 + j))))
  }
  await until(() => arrived.length === 12, 'all started')
  for (const k of [2, 0, 1]) for (const j of [3, 1, 2, 0]) gates.get(String(k * 100 + j)).open()
  for (let k = 0; k < 3; k++) {
    const rs = await conns[k].readResponses(4)
    t.same(rs.map((r) => JSON.parse(r.text).id), [0, 1, 2, 3].map((j) => String(k * 100 + j)), `connection ${k}`)
  }
})

t.test('a rejected async handler in the middle of a pipeline answers in place', async (t) => {
  const { port } = await listenApp(t, {
    setup (app) {
      app.get('/ok/:i', async (req) => { await delay(Number(req.params.i) % 3); return `ok${req.params.i}` })
      app.get('/bad', async () => { await delay(1); const e = new Error('nope'); e.statusCode = 409; throw e })
    }
  })
  const c = await connect(t, port)
  await c.write(Buffer.concat([buildRequest({ url: '/ok/1' }), buildRequest({ url: '/bad' }), buildRequest({ url: '/ok/2' })]))
  const rs = await c.readResponses(3)
  t.equal(rs[0].text, 'ok1')
  t.equal(rs[1].status, 409)
  t.equal(rs[2].text, 'ok2')
})

t.test('inject: many in parallel finishing out of order each get their own answer', async (t) => {
  const { App } = salvo()
  const app = new App()
  const gates = new Map()
  const arrived = []
  gatedSetup(gates, arrived)(app)
  const N = 50
  const ps = [...Array(N).keys()].map((i) => withTimeout(app.inject({ method: 'POST', url: `/g/${i}?q=q${i}`, headers: { 'x-id': `h${i}` }, body: `body ${i} `.repeat((i % 7) + 1) }), 20_000, `inject ${i}`))
  await until(() => arrived.length === N, 'all injected handlers started')
  for (let i = N - 1; i >= 0; i--) gates.get(String(i)).open()
  const rs = await Promise.all(ps)
  rs.forEach((r, i) => t.same(r.json(), expectFor(i), `inject ${i}`))
})

t.test('inject from inside a handler', async (t) => {
  const { App } = salvo()
  const app = new App()
  app.get('/inner', () => 'inner')
  app.get('/outer', async () => `outer(${(await app.inject({ url: '/inner' })).body})`)
  const r = await withTimeout(app.inject({ url: '/outer' }), 10_000, 'inject')
  t.equal(r.body, 'outer(inner)')
})

t.test('pipelined large sync answers mixed with async ones stay in order (output arena overflow)', async (t) => {
  const { port } = await listenApp(t, {
    setup (app) {
      app.get('/big/:i', (req) => `${req.params.i}:`.padEnd(200 * 1024, String.fromCharCode(97 + (Number(req.params.i) % 26))))
      app.get('/small/:i', async (req) => { await new Promise((resolve) => setImmediate(resolve)); return `small ${req.params.i}` })
    }
  })
  const c = await connect(t, port)
  const N = 60
  const wire = [...Array(N).keys()].map((i) => buildRequest({ url: i % 2 ? `/small/${i}` : `/big/${i}` }))
  c.write(Buffer.concat(wire)).catch(() => {})
  const rs = await c.readResponses(N, { timeout: 30_000 })
  rs.forEach((r, i) => {
    if (i % 2) t.equal(r.text, `small ${i}`, `#${i}`)
    else t.ok(r.text.length === 200 * 1024 && r.text.startsWith(`${i}:`) && r.text.endsWith(String.fromCharCode(97 + (i % 26))), `#${i} big answer intact`)
  })
})

t.test('a client that leaves while its requests are pending does not disturb others', async (t) => {
  const gates = new Map()
  const arrived = []
  const st = { streamDone: false, writes: 0 }
  const { port } = await listenApp(t, {
    setup (app) {
      gatedSetup(gates, arrived)(app)
      app.get('/stream-to-gone', async (req, res) => {
        arrived.push('stream')
        await gates.get('stream').p
        // The client is gone: writes are dropped and drained() must not hang.
        for (let i = 0; i < 200; i++) {
          st.writes++
          if (!res.write(Buffer.alloc(64 * 1024))) await res.drained()
        }
        res.end()
        st.streamDone = true
      })
    }
  })
  gates.set('stream', gate())
  const c1 = await connect(t, port)
  await c1.write(Buffer.concat([reqFor(1), reqFor(2), buildRequest({ url: '/stream-to-gone' })]))
  await until(() => arrived.length === 3, 'handlers started')
  c1.destroy()
  await delay(50)
  gates.get('1').open()
  gates.get('2').open()
  gates.get('stream').open()
  await until(() => st.streamDone, `streaming to a closed connection finishes (writes ${st.writes})`, 20_000)
  const c2 = await connect(t, port)
  await c2.write(buildRequest({ url: '/sync/9?q=z' }))
  const [r] = await c2.readResponses(1)
  t.equal(r.text, 'sync 9 z', 'the server still answers')
})
