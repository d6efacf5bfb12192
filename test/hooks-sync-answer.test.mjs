// Lifecycle.run answers a hooked route's string at once (without settle and send) only when
// nothing else delivers the reply: a request deferred past the high-water mark (its reply
// already has the dispatcher as its sink) and every other shape still go through settle.
// Hooks keep fastify's semantics: a hook that answers skips the handler, async hooks run in
// order, a string returned after res.send() is ignored.
import t from 'tap'
import { loadSalvo } from './helpers/app.mjs'
import { connect, get } from './helpers/raw-client.mjs'

const big = 'b'.repeat(4096)

t.test('hooked string answers, now and deferred past the high-water mark, in order', async (t) => {
  const { App } = loadSalvo()
  const app = new App({ highWaterMark: 16 * 1024 })
  let hooks = 0
  app.get('/s/:i', { onRequest: () => { hooks++ } }, (req) => req.params.i + ':' + big)
  const server = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => server.close())
  const c = await connect(t, server.port)
  const n = 60 // 60 x 4 KiB: well past the 16 KiB mark, so most of the batch is deferred
  c.write(Buffer.concat(Array.from({ length: n }, (_, i) => get('/s/' + i))))
  const rs = await c.readResponses(n)
  for (const [i, r] of rs.entries()) {
    t.equal(r.status, 200)
    t.equal(r.body.toString(), i + ':' + big, `answer ${i} in order`)
  }
  t.equal(hooks, n, 'the hook ran once per request')
})

t.test('hook semantics around the direct string answer', async (t) => {
  const { App } = loadSalvo()
  const app = new App()
  const seen = []
  app.get('/answered', { onRequest: (req, res) => { res.send('from hook') } }, () => { seen.push('handler ran'); return 'handler' })
  app.get('/async', {
    onRequest: async () => { await new Promise((resolve) => setTimeout(resolve, 2)); seen.push('a1') },
    preHandler: [() => { seen.push('p1') }, async () => { seen.push('p2') }],
  }, () => { seen.push('h'); return 'async hooks' })
  app.get('/sent-then-returned', { onRequest: () => {} }, (req, res) => { res.send('sent'); return 'returned' })
  app.get('/typed', { onRequest: (req, res) => { res.header('X-H', '1') } }, (req, res) => { res.type('text/html'); return '<p>' })
  app.get('/prehandler-answers', { preHandler: (req, res) => { res.status(401).send('no') } }, () => { seen.push('handler ran'); return 'x' })
  const a = await app.inject({ url: '/answered' })
  t.equal(a.body, 'from hook')
  const b = await app.inject({ url: '/async' })
  t.equal(b.body, 'async hooks')
  t.same(seen, ['a1', 'p1', 'p2', 'h'], 'hooks in order, the handler last; no handler after an answering hook')
  const c = await app.inject({ url: '/sent-then-returned' })
  t.equal(c.body, 'sent', 'a string returned after res.send() is ignored')
  const d = await app.inject({ url: '/typed' })
  t.equal(d.body, '<p>')
  t.equal(d.headers['content-type'], 'text/html')
  t.equal(d.headers['x-h'], '1')
  const e = await app.inject({ url: '/prehandler-answers' })
  t.equal(e.statusCode, 401)
  t.equal(e.body, 'no')
  t.notOk(seen.includes('handler ran'))
})
