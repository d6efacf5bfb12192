// The design's invariants that a test can observe from outside:
//  3. one write per read batch (the addon counts its reads and writes);
//  6. the addon works in worker_threads and when loaded twice (no process globals).
import t from 'tap'
import { Worker } from 'node:worker_threads'
import { connect, get } from './helpers/raw-client.mjs'
import { startApp, loadSalvo } from './helpers/app.mjs'

t.test('one write per read batch for pipelined requests', async (t) => {
  const { server, port } = await startApp(t, (app) => {
    app.get('/', () => 'Hello world!')
    app.get('/a', async () => 'async')
  })
  const c = await connect(t, port)
  const batch = Buffer.from(Array.from({ length: 24 }, () => get('/')).join(''))
  // Warm the connection, then measure 50 batches of 24 sent in one write each.
  c.write(batch)
  await c.readResponses(24)
  const before = server.stats()
  for (let i = 0; i < 50; i++) {
    c.write(batch)
    const rs = await c.readResponses(24)
    t.equal(rs.length, 24)
  }
  const after = server.stats()
  const reads = after.reads - before.reads
  const writes = after.writes - before.writes
  t.equal(after.requests - before.requests, 24 * 50, 'every request was parsed')
  t.ok(reads >= 50, `the server read at least once per batch (${reads})`)
  t.equal(writes, after.batches - before.batches, 'exactly one write per dispatched batch')
  t.ok(writes <= reads, `never more writes than reads (${writes} writes, ${reads} reads)`)
})

t.test('async responses finished in one microtask turn still leave in order', async (t) => {
  const { port } = await startApp(t, (app) => {
    app.get('/s/:n', (req) => `s${req.params.n}`)
    app.get('/a/:n', async (req) => {
      // Later requests finish first: the reverse of their order.
      await new Promise((resolve) => setTimeout(resolve, 30 - Number(req.params.n)))
      return `a${req.params.n}`
    })
  })
  const c = await connect(t, port)
  const targets = []
  for (let i = 0; i < 20; i++) targets.push(i % 3 === 0 ? `/s/${i}` : `/a/${i}`)
  c.write(targets.map((p) => get(p)).join(''))
  const rs = await c.readResponses(targets.length)
  t.same(rs.map((r) => r.body.toString()), targets.map((p) => p.slice(1).replace('/', '')))
})

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const { App } = require(workerData.dist)
const app = new App()
app.get('/', () => 'from worker ' + workerData.n)
app.listen({ port: 0, host: '127.0.0.1' }).then((s) => {
  parentPort.postMessage(s.port)
  parentPort.once('message', async (m) => { if (m === 'close') { await s.close(); parentPort.postMessage('closed') } })
})
`

function startWorker (n) {
  const w = new Worker(WORKER, { eval: true, workerData: { n, dist: new URL('../dist/index.js', import.meta.url).pathname } })
  const port = new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject) })
  return { w, port }
}

async function hello (t, port) {
  const c = await connect(t, port)
  c.write(get('/'))
  const [r] = await c.readResponses(1)
  c.destroy()
  return r.body.toString()
}

t.test('works in worker_threads, two at once, and next to the main thread', async (t) => {
  // The main thread loads the addon too: three environments in one process.
  const { port: mainPort } = await startApp(t, (app) => app.get('/', () => 'from main'))
  const a = startWorker(1)
  const b = startWorker(2)
  const [pa, pb] = await Promise.all([a.port, b.port])
  t.equal(await hello(t, pa), 'from worker 1')
  t.equal(await hello(t, pb), 'from worker 2')
  t.equal(await hello(t, mainPort), 'from main')
  // A graceful close inside a worker, then terminating it.
  a.w.postMessage('close')
  await new Promise((resolve) => a.w.once('message', resolve))
  await a.w.terminate()
  // Terminating a worker whose server still listens runs the addon's cleanup hook.
  await b.w.terminate()
  t.equal(await hello(t, mainPort), 'from main', 'the main thread still serves')
})

t.test('the parser in use is reported and SALVO_PARSER=scalar is honoured', async (t) => {
  const { native } = loadSalvo()
  t.ok(['sse42', 'scalar'].includes(native.parser))
  if (process.env.SALVO_PARSER === 'scalar') t.equal(native.parser, 'scalar')
  else t.equal(native.parser, native.cpuHasSse42() ? 'sse42' : 'scalar')
})
