// onSend hooks over answers decided inside their batch run in the batch
// (LateAnswers.onSendNow): synchronously while each returns no thenable; the
// first thenable makes the answer a late one (onSendLater), in order. And a
// hook-free route's body step (route.body) runs on the fast path and for
// requests deferred past highWaterMark.
import t from 'tap'
import { connect, get, post } from './helpers/raw-client.mjs'
import { startApp } from './helpers/app.mjs'

const pipeline = (reqs) => Buffer.concat(reqs)

t.test('sync onSend hooks: a pipelined batch is answered in order, every hook applied, status and headers kept', async (t) => {
  const { server, port } = await startApp(t, (app) => {
    app.addHook('onSend', (req, res, payload) => {
      res.header('x-one', '1')
      return payload + '|a'
    })
    app.addHook('onSend', (req, res, payload) => {
      if (req.url.endsWith('/7')) res.status(201)
      return payload + '|b'
    })
    app.get('/n/:i', (req) => `n${req.params.i}`)
  })
  const c = await connect(t, port)
  const batch = pipeline(Array.from({ length: 24 }, (_, i) => get(`/n/${i}`)))
  const before = server.stats()
  for (let round = 0; round < 10; round++) {
    c.write(batch)
    const rs = await c.readResponses(24)
    for (let i = 0; i < 24; i++) {
      t.equal(rs[i].body.toString(), `n${i}|a|b`)
      t.equal(rs[i].headers['x-one'], '1')
      t.equal(rs[i].status, i === 7 ? 201 : 200)
    }
  }
  const after = server.stats()
  t.equal(after.writes - before.writes, after.reads - before.reads, 'one write per read')
})

t.test('a hook in the middle returning a promise: that answer goes late, the rest of the chain still runs, order holds', async (t) => {
  const { port } = await startApp(t, (app) => {
    app.addHook('onSend', (req, res, payload) => payload + '|a')
    app.addHook('onSend', (req, res, payload) => {
      const i = Number(req.params.i)
      // Odd requests settle late, the highest first: reverse order across turns.
      if (i % 2 === 1) return new Promise((resolve) => setTimeout(() => resolve(payload + '|late'), 5 * (24 - i)))
      return undefined
    })
    app.addHook('onSend', (req, res, payload) => {
      res.header('x-last', 'yes')
      return payload + '|c'
    })
    app.get('/n/:i', (req) => `n${req.params.i}`)
  })
  const c = await connect(t, port)
  c.write(pipeline(Array.from({ length: 24 }, (_, i) => get(`/n/${i}`))))
  const rs = await c.readResponses(24)
  for (let i = 0; i < 24; i++) {
    t.equal(rs[i].body.toString(), i % 2 === 1 ? `n${i}|a|late|c` : `n${i}|a|c`, `answer ${i}`)
    t.equal(rs[i].headers['x-last'], 'yes')
  }
})

t.test('a sync onSend hook that throws: the default 500, without the reply\'s headers; the next requests unharmed', async (t) => {
  const { port } = await startApp(t, (app) => {
    app.addHook('onSend', (req, res, payload) => {
      res.header('x-secret', 'set-before-throw')
      if (req.url === '/boom') throw new Error('hook failed')
      return payload
    })
    app.get('/boom', () => 'never seen')
    app.get('/ok', () => 'fine')
  })
  const c = await connect(t, port)
  c.write(pipeline([get('/ok'), get('/boom'), get('/ok')]))
  const rs = await c.readResponses(3)
  t.equal(rs[0].body.toString(), 'fine')
  t.equal(rs[1].status, 500)
  t.equal(rs[1].headers['x-secret'], undefined)
  t.match(JSON.parse(rs[1].body.toString()), { statusCode: 500 })
  t.equal(rs[2].body.toString(), 'fine')
  t.equal(rs[2].headers['x-secret'], 'set-before-throw')
})

t.test('a hook-free JSON route parses and validates on the fast path, also for requests deferred past highWaterMark', async (t) => {
  const { App } = await import('../dist/index.mjs')
  const app = new App({ highWaterMark: 1024 })
  const schema = { body: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] } }
  app.post('/v', { schema }, (req) => ({ twice: req.body.n * 2, pad: 'x'.repeat(300) }))
  const server = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => server.close())
  const c = await connect(t, server.port)
  const json = { 'Content-Type': 'application/json' }
  // 40 answers of ~450 bytes: most of the batch waits behind the 1 KiB high-water mark.
  const reqs = Array.from({ length: 40 }, (_, i) => post('/v', i === 30 ? '{"n":"no"}' : `{"n":${i}}`, { headers: json }))
  c.write(pipeline(reqs))
  const rs = await c.readResponses(40)
  for (let i = 0; i < 40; i++) {
    if (i === 30) {
      t.equal(rs[i].status, 400, 'the deferred invalid body is refused')
      t.equal(JSON.parse(rs[i].body.toString()).code, 'SALVO_ERR_VALIDATION')
    } else {
      t.equal(rs[i].status, 200)
      t.equal(JSON.parse(rs[i].body.toString()).twice, 2 * i)
    }
  }
})
