// coalesceTurn (docs/API.md, docs/ARCHITECTURE.md "Coalesced turns"): the reads of one
// event-loop turn are dispatched together after the poll phase, in one callback scope,
// so a client that batches its work on process.nextTick (postgres.js pipelining, a
// DataLoader) sees the handlers of every connection of the turn at once, not one
// connection at a time.  Answers still leave in request order, one write per read.
import net from 'node:net'
import t from 'tap'
import { connect, get, withTimeout } from './helpers/raw-client.mjs'
import { loadSalvo } from './helpers/app.mjs'

const { App } = loadSalvo()

async function start (t, opts, setup) {
  const app = new App(opts)
  setup(app)
  const server = await withTimeout(app.listen({ port: 0, host: '127.0.0.1' }), 10_000, 'listen')
  t.teardown(() => withTimeout(Promise.resolve(server.close()), 10_000, 'close').catch(() => {}))
  return server
}

/** A batcher in the postgres.js style: work queued in one tick goes out together on process.nextTick. */
function nextTickBatcher () {
  let queue = []
  const sizes = []
  const flush = () => {
    const q = queue
    queue = []
    sizes.push(q.length)
    for (const resolve of q) resolve(q.length)
  }
  return {
    sizes,
    add: () => new Promise((resolve) => {
      if (queue.length === 0) process.nextTick(flush)
      queue.push(resolve)
    })
  }
}

async function oneRequestOnEach (t, port, n, path) {
  const cs = []
  for (let i = 0; i < n; i++) cs.push(await connect(t, port))
  // One tick: the n requests are in the server's sockets before its next poll.
  for (const c of cs) c.write(get(path))
  return Promise.all(cs.map((c) => c.readResponses(1).then((rs) => rs[0].body.toString())))
}

for (const coalesceTurn of [true, false]) {
  t.test(`coalesceTurn ${coalesceTurn}: what a nextTick batcher sees of one turn's reads on 8 connections`, async (t) => {
    const b = nextTickBatcher()
    const server = await start(t, { coalesceTurn }, (app) => {
      app.get('/q', async () => 'batch of ' + (await b.add()))
    })
    const bodies = await oneRequestOnEach(t, server.port, 8, '/q')
    if (coalesceTurn) {
      t.same(b.sizes, [8], 'one flush for the turn, with every connection\'s request')
      t.same(bodies, Array(8).fill('batch of 8'))
    } else {
      t.same(b.sizes, Array(8).fill(1), 'a flush per connection (each read closes its own callback scope)')
      t.same(bodies, Array(8).fill('batch of 1'))
    }
  })
}

t.test('coalesceTurn: sync, microtask, immediate and nextTick-batched answers on 4 pipelining connections, in order, one write per read', async (t) => {
  const b = nextTickBatcher()
  const server = await start(t, { coalesceTurn: true }, (app) => {
    app.get('/s/:n', (req) => 's' + req.params.n)
    app.get('/a/:n', async (req) => 'a' + req.params.n)
    app.get('/i/:n', (req) => new Promise((resolve) => setImmediate(() => resolve('i' + req.params.n))))
    app.get('/b/:n', async (req) => { await b.add(); return 'b' + req.params.n })
  })
  const kinds = ['s', 'a', 'i', 'b']
  const paths = [...Array(24)].map((_, i) => `/${kinds[(i * 7) % 4]}/${i}`)
  const batch = Buffer.from(paths.map((p) => get(p).toString('latin1')).join(''), 'latin1')
  const cs = []
  for (let i = 0; i < 4; i++) cs.push(await connect(t, server.port))
  const before = server.stats()
  for (let round = 0; round < 10; round++) {
    for (const c of cs) c.write(batch)
    const all = await Promise.all(cs.map((c) => c.readResponses(24)))
    for (const rs of all) t.same(rs.map((r) => r.body.toString()), paths.map((p) => p[1] + p.slice(3)), `round ${round}: every answer, in request order`)
  }
  const after = server.stats()
  const reads = after.reads - before.reads
  t.ok(reads >= 40, `a read per batch at least (${reads})`)
  t.equal(after.writes - before.writes, reads, 'one write per read')
  t.ok(Math.max(...b.sizes) > 1, `the nextTick batcher got requests of several connections at once (largest batch ${Math.max(...b.sizes)})`)
})

t.test('coalesceTurn: a read that fills its slab is processed at once, and everything is answered', async (t) => {
  const server = await start(t, { coalesceTurn: true }, (app) => {
    app.get('/n/:n', async (req) => 'n' + req.params.n)
  })
  const c = await connect(t, server.port)
  // About 200 KiB of pipelined requests in one write: reads of a full 64 KiB slab.
  const n = 4000
  const pad = 'x'.repeat(20)
  const buf = Buffer.from([...Array(n)].map((_, i) => get(`/n/${i}?${pad}`).toString('latin1')).join(''), 'latin1')
  t.ok(buf.length > 3 * 65536, `${buf.length} bytes`)
  c.write(buf)
  const rs = await c.readResponses(n)
  t.equal(rs.length, n)
  t.ok(rs.every((r, i) => r.status === 200 && r.body.toString() === 'n' + i), 'all answered, in order')
})

t.test('coalesceTurn: requests sent with the FIN right behind them are answered before the close', async (t) => {
  const server = await start(t, { coalesceTurn: true }, (app) => {
    app.get('/n/:n', (req) => new Promise((resolve) => setImmediate(() => resolve('n' + req.params.n))))
  })
  const got = await new Promise((resolve, reject) => {
    const s = net.connect(server.port, '127.0.0.1', () => {
      s.end(Buffer.from([0, 1, 2].map((i) => get(`/n/${i}`).toString('latin1')).join(''), 'latin1'))
    })
    const chunks = []
    s.on('data', (d) => chunks.push(d))
    s.on('error', reject)
    s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')))
  })
  t.match(got, /n0[\s\S]*n1[\s\S]*n2$/, 'three answers, in order, then the close')
})

t.test('coalesceTurn must be a boolean', async (t) => {
  t.throws(() => new App({ coalesceTurn: 'yes' }), { code: 'SALVO_ERR_INVALID_ARG', message: /coalesceTurn must be a boolean/ })
})
