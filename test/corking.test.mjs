// Corking (docs/ARCHITECTURE.md, "Corking"): all bytes produced for one connection
// during one event-loop turn leave in one write, in request order, whatever answers
// them: the sync part of a batch, async answers settling in the microtasks after it,
// answers settling in an immediate or a timer, and stream chunks.
import t from 'tap'
import { connect, get } from './helpers/raw-client.mjs'
import { startApp } from './helpers/app.mjs'

const pipeline = (paths) => Buffer.from(paths.map((p) => get(p)).join(''))

async function writesFor (t, server, c, batch, n, rounds = 20) {
  c.write(batch) // warm
  await c.readResponses(n)
  const before = server.stats()
  for (let i = 0; i < rounds; i++) {
    c.write(batch)
    const rs = await c.readResponses(n)
    t.equal(rs.length, n)
  }
  const after = server.stats()
  return { reads: after.reads - before.reads, writes: after.writes - before.writes }
}

t.test('async handlers settling in the microtasks after their batch: one write per read', async (t) => {
  const { server, port } = await startApp(t, (app) => {
    app.get('/a', async () => 'Hello world!')
    app.get('/j', async () => ({ message: 'Hello, World!' }))
  })
  const c = await connect(t, port)
  for (const path of ['/a', '/j']) {
    const { reads, writes } = await writesFor(t, server, c, pipeline(Array(24).fill(path)), 24)
    t.ok(reads >= 20, `${path}: read once per batch at least (${reads})`)
    t.equal(writes, reads, `${path}: exactly one write per read (${writes} writes, ${reads} reads)`)
  }
})

t.test('answers settling in an immediate leave with the same turn\'s one write', async (t) => {
  const { server, port } = await startApp(t, (app) => {
    app.get('/i', () => new Promise((resolve) => setImmediate(() => resolve('Hello world!'))))
  })
  const c = await connect(t, port)
  const { reads, writes } = await writesFor(t, server, c, pipeline(Array(24).fill('/i')), 24)
  t.equal(writes, reads, `one write per read (${writes} writes, ${reads} reads)`)
})

t.test('a mixed batch (sync, then async settling in its checkpoint): one write per read, in order', async (t) => {
  const { server, port } = await startApp(t, (app) => {
    app.get('/s/:n', (req) => 'sync ' + req.params.n)
    app.get('/a/:n', async (req) => 'async ' + req.params.n)
  })
  const c = await connect(t, port)
  // The batch's own bytes wait in the arena for the answers of its checkpoint (ConnQueues.adoptArena).
  const paths = [...Array(12)].map((_, i) => (i % 3 === 2 ? '/a/' : '/s/') + i).concat([...Array(12)].map((_, i) => '/a/' + (12 + i)))
  const { reads, writes } = await writesFor(t, server, c, pipeline(paths), 24)
  t.equal(writes, reads, `one write per read (${writes} writes, ${reads} reads)`)
  c.write(pipeline(paths))
  const rs = await c.readResponses(24)
  t.same(rs.map((r) => r.body.toString()), paths.map((p) => (p.startsWith('/a/') ? 'async ' : 'sync ') + p.slice(3)), 'every answer, in request order')
})

t.test('a mixed batch whose async answer is large (it leaves by reference): the sync bytes still go first', async (t) => {
  const big = Buffer.alloc(200 * 1024, 'x')
  const { port } = await startApp(t, (app) => {
    app.get('/s/:n', (req) => 'sync ' + req.params.n)
    app.get('/big', async () => big)
  })
  const c = await connect(t, port)
  const paths = ['/s/0', '/s/1', '/big', '/s/3', '/big', '/s/5']
  for (let round = 0; round < 3; round++) {
    c.write(pipeline(paths))
    const rs = await c.readResponses(paths.length)
    t.same(rs.map((r) => (r.body.length > 1000 ? r.body.equals(big) : r.body.toString())), ['sync 0', 'sync 1', true, 'sync 3', true, 'sync 5'], `round ${round}: in order, bodies intact`)
  }
})

t.test('answers that settle in reverse order across turns leave in request order', async (t) => {
  let released = 0
  const { port } = await startApp(t, (app) => {
    app.get('/r/:n', async (req) => {
      const n = Number(req.params.n)
      // Request 0 settles last; each in its own timer (its own turn).
      await new Promise((resolve) => setTimeout(resolve, 5 + (10 - n) * 8))
      released++
      return `r${n}`
    })
  })
  const c = await connect(t, port)
  const paths = Array.from({ length: 10 }, (_, i) => `/r/${i}`)
  c.write(pipeline(paths))
  const rs = await c.readResponses(10)
  t.same(rs.map((r) => r.body.toString()), paths.map((_, i) => `r${i}`))
  t.equal(released, 10)
})

t.test('stream chunks written in one turn leave in one write', async (t) => {
  const { server, port } = await startApp(t, (app) => {
    app.get('/stream', (req, res) => {
      for (let i = 0; i < 100; i++) res.write(`chunk ${i}\n`)
      res.end()
    })
    app.get('/late', (req, res) => {
      setImmediate(() => {
        for (let i = 0; i < 100; i++) res.write(`chunk ${i}\n`)
        res.end()
      })
    })
  })
  const c = await connect(t, port)
  for (const path of ['/stream', '/late']) {
    const { reads, writes } = await writesFor(t, server, c, pipeline(Array(4).fill(path)), 4, 10)
    t.equal(writes, reads, `${path}: one write per read for 4 x 100 chunks (${writes} writes, ${reads} reads)`)
    c.write(get(path))
    const [r] = await c.readResponses(1)
    t.equal(r.body.toString(), Array.from({ length: 100 }, (_, i) => `chunk ${i}\n`).join(''), `${path}: the body is whole`)
  }
})

// The checkpoint's end (src/conn-queue.ts endCheckpoint): answers settled in a
// batch's microtasks leave with the addon's own end of the batch, also when
// the read holds more requests than one dispatch takes (sub-batches) and when
// a handler runs another batch (inject) inside the checkpoint.
t.test('more async requests in one read than one dispatch takes: all answered, in order', async (t) => {
  const { port } = await startApp(t, (app) => {
    app.get('/n/:i', async (req) => 'n' + req.params.i)
  })
  const c = await connect(t, port)
  const n = 1100 // the addon dispatches at most 1024 rows at a time
  c.write(pipeline(Array.from({ length: n }, (_, i) => '/n/' + i)))
  const rs = await c.readResponses(n)
  t.equal(rs.length, n)
  t.same(rs.map((r) => r.body.toString()), Array.from({ length: n }, (_, i) => 'n' + i), 'in request order')
})

t.test('a handler injecting a request inside the checkpoint: both connections answered in order', async (t) => {
  let app0
  const { port } = await startApp(t, (app) => {
    app0 = app
    app.get('/inner', async () => 'inner')
    app.get('/a/:i', async (req) => {
      await null
      if (req.params.i === '3') {
        const r = await app0.inject({ method: 'GET', url: '/inner' })
        return 'a3:' + r.body
      }
      return 'a' + req.params.i
    })
  })
  const c = await connect(t, port)
  for (let round = 0; round < 5; round++) {
    c.write(pipeline(Array.from({ length: 8 }, (_, i) => '/a/' + i)))
    const rs = await c.readResponses(8)
    t.same(rs.map((r) => r.body.toString()), ['a0', 'a1', 'a2', 'a3:inner', 'a4', 'a5', 'a6', 'a7'], `round ${round}: in order`)
  }
})

t.test('a read of 1024 async requests then sync ones (the second dispatch owes nothing): all answered, in order', async (t) => {
  const { port } = await startApp(t, (app) => {
    app.get('/n/:i', async (req) => 'n' + req.params.i)
    app.get('/s/:i', (req) => 's' + req.params.i)
  })
  const c = await connect(t, port)
  const paths = Array.from({ length: 1100 }, (_, i) => (i < 1024 ? '/n/' : '/s/') + i)
  c.write(pipeline(paths))
  const rs = await c.readResponses(paths.length)
  t.same(rs.map((r) => r.body.toString()), paths.map((p) => p.slice(1, 2) + p.slice(3)), 'in request order')
})

t.test('a batch ends early only once its handlers returned: a handler reading its request after its own send still reads it', async (t) => {
  const seen = []
  const { port } = await startApp(t, (app) => {
    app.get('/late/:n', async (req, res) => {
      await null
      res.send('answer ' + req.params.n) // in the checkpoint, its handler still running
      // Later requests' handlers run longer: the first ones return while the last still read theirs.
      for (let i = 0; i < Number(req.params.n); i++) await null
      try {
        seen.push(req.header('x-n')) // still inside the batch's checkpoint: the request is readable
      } catch (err) {
        seen.push(err.code)
      }
    })
    app.get('/plain/:n', async (req) => 'plain ' + req.params.n)
  })
  const c = await connect(t, port)
  const paths = [...Array(24)].map((_, i) => (i % 2 ? '/late/' : '/plain/') + i)
  // x-n: a header is read from the request's bytes on every call (not cached), so an ended request throws.
  const batch = Buffer.concat(paths.map((p) => get(p, { headers: { 'x-n': p } })))
  for (let round = 0; round < 3; round++) {
    seen.length = 0
    c.write(batch)
    const rs = await c.readResponses(24)
    t.same(rs.map((r) => r.body.toString()), paths.map((p) => (p.startsWith('/late/') ? 'answer ' : 'plain ') + p.split('/')[2]), `round ${round}: answers in order`)
    await new Promise((resolve) => setImmediate(resolve))
    t.same(seen, paths.filter((p) => p.startsWith('/late/')), `round ${round}: every handler read its own header after sending`)
  }
})

// A batch whose answers all settled in its checkpoint hands its bytes back
// early (ConnQueues.handBackEarly) while they still sit in the arena; an
// inject started later in the same checkpoint (a detached promise chain)
// runs on the injector's own engine and arena, and the next batch of the
// connection finds the hand-back taken (sendHanded's early return). The
// chain's depth moves the inject to each microtask after the hand-back.
t.test('an inject run after the checkpoint\'s connection handed its output back early: both answered whole', async (t) => {
  let app0
  const injected = []
  const { port } = await startApp(t, (app) => {
    app0 = app
    app.get('/inner', () => 'inner answer')
    app.get('/h/:depth/:i', async (req) => {
      const depth = Number(req.params.depth)
      if (req.params.i === '0') {
        let p = Promise.resolve()
        for (let k = 0; k < depth; k++) p = p.then(() => {})
        // Not awaited: the handler returns, so its batch can end early.
        p.then(() => app0.inject({ url: '/inner' })).then((r) => injected.push(r.body), (err) => injected.push(String(err)))
      }
      return 'h' + depth + '.' + req.params.i
    })
  })
  const c = await connect(t, port)
  for (let depth = 0; depth <= 8; depth++) {
    injected.length = 0
    const paths = Array.from({ length: 4 }, (_, i) => `/h/${depth}/${i}`)
    c.write(pipeline(paths))
    const rs = await c.readResponses(4)
    t.same(rs.map((r) => r.body.toString()), paths.map((p) => 'h' + p.split('/')[2] + '.' + p.split('/')[3]), `depth ${depth}: the connection's answers, whole and in order`)
    while (injected.length === 0) await new Promise((resolve) => setImmediate(resolve))
    t.same(injected, ['inner answer'], `depth ${depth}: the injected request answered`)
  }
})
