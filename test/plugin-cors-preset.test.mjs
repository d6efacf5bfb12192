// cors with a fixed origin gives each reply its lines as a shared FieldPreset (src/reply.ts)
// instead of setting them field by field: the answers must be the ones reply.header() made,
// whatever the reply does after (reads, replaces, removes, appends, compress's Vary, an onSend
// hook that throws), and what one reply does to its fields never reaches another's answer.
import t from 'tap'
import { forBoth, salvo } from './helpers/api.mjs'
import { startApp } from './helpers/app.mjs'
import { connect, get } from './helpers/raw-client.mjs'

const big = 'x'.repeat(2000)

forBoth(t, 'cors preset: the lines as reply.header() sets them, changed per reply', {
  setup (app) {
    const { cors, compress } = salvo()
    cors(app, { credentials: true, exposedHeaders: 'X-Total' })
    compress(app, { encodings: ['gzip'] })
    app.get('/plain', () => 'p')
    app.get('/read', (req, res) => ({ acao: res.getHeader('Access-Control-Allow-Origin'), has: res.hasHeader('access-control-expose-headers') }))
    app.get('/append', (req, res) => {
      res.header('X-Mine', '1')
      res.cookie('a', '1')
      res.cookie('b', '2')
      return 'a'
    })
    app.get('/remove', (req, res) => {
      res.removeHeader('access-control-allow-credentials')
      return 'r'
    })
    app.get('/big', () => big)
    app.head('/h', () => 'head body')
    app.post('/only-post', () => 'p')
    app.get('/throws', () => { throw Object.assign(new Error('no'), { statusCode: 409 }) })
    app.get('/boom', { onSend: () => { throw new Error('onSend failed') } }, () => 'b')
  }
}, async (t, { request, mode }) => {
  const plain = await request({ url: '/plain' })
  t.equal(plain.body, 'p')
  t.equal(plain.headers['access-control-allow-origin'], '*')
  t.equal(plain.headers['access-control-allow-credentials'], 'true')
  t.equal(plain.headers['access-control-expose-headers'], 'X-Total')
  t.notOk('vary' in plain.headers, 'below the threshold: no Vary')

  const read = await request({ url: '/read' })
  t.same(JSON.parse(read.body), { acao: '*', has: true }, 'the handler reads the preset fields')
  t.equal(read.headers['access-control-allow-origin'], '*', 'and they are still sent once')

  const app1 = await request({ url: '/append' })
  t.equal(app1.headers['x-mine'], '1')
  t.same(app1.headers['set-cookie'], ['a=1', 'b=2'])
  t.equal(app1.headers['access-control-allow-origin'], '*', 'the preset lines stay with added ones')
  if (mode === 'socket') t.match(app1.head, /Access-Control-Allow-Origin: \*\r\nAccess-Control-Allow-Credentials: true\r\nAccess-Control-Expose-Headers: X-Total\r\nX-Mine: 1\r\n/, 'in order: the preset first')

  const rem = await request({ url: '/remove' })
  t.notOk('access-control-allow-credentials' in rem.headers, 'removed from this reply')
  t.equal(rem.headers['access-control-allow-origin'], '*')

  // Another reply after all that: the shared preset was not changed by any of them.
  const again = await request({ url: '/plain' })
  t.equal(again.headers['access-control-allow-credentials'], 'true', 'the next reply has every preset line')
  t.notOk('x-mine' in again.headers, "nothing of another reply's fields")
  t.notOk('set-cookie' in again.headers, "nor its cookies")

  const z = await request({ url: '/big', headers: { 'accept-encoding': 'gzip' } })
  t.equal(z.headers['content-encoding'], 'gzip')
  t.equal(z.headers.vary, 'Accept-Encoding', "compress's Vary joins the preset lines")
  t.equal(z.headers['access-control-allow-origin'], '*')

  const h = await request({ method: 'HEAD', url: '/h' })
  t.equal(h.statusCode, 200)
  t.equal(h.headers['access-control-allow-origin'], '*', 'HEAD answers')
  t.equal(h.headers['content-length'], String(Buffer.byteLength('head body')))

  const na = await request({ url: '/only-post' })
  t.equal(na.statusCode, 405)
  t.equal(na.headers.allow, 'POST')
  t.equal(na.headers['access-control-allow-origin'], '*', '405 answers')

  const th = await request({ url: '/throws' })
  t.equal(th.statusCode, 409)
  t.equal(th.headers['access-control-allow-origin'], '*', 'an error answer keeps the lines (as fastify keeps headers)')
  t.equal(JSON.parse(th.body).message, 'no')

  const boom = await request({ url: '/boom' })
  t.equal(boom.statusCode, 500)
  t.notOk('access-control-allow-origin' in boom.headers, "an onSend hook's failure answers without the reply's headers, as before")
})

t.test('cors preset: an earlier hook set a field first: the lines are added after it', async (t) => {
  const { App, cors } = salvo()
  const app = new App()
  app.addHook('onRequest', (req, res) => { res.header('X-First', 'f') })
  cors(app)
  app.get('/r', () => 'ok')
  const r = await app.inject({ url: '/r' })
  t.equal(r.headers['x-first'], 'f')
  t.equal(r.headers['access-control-allow-origin'], '*')
})

t.test('cors preset: pipelined answers on one connection, each with its own fields', async (t) => {
  const { port } = await startApp(t, (app) => {
    const { cors } = salvo()
    cors(app)
    app.get('/p', () => ({ m: 'p' }))
    app.get('/x/:v', (req, res) => {
      res.header('X-V', req.params.v)
      res.header('Access-Control-Allow-Origin', 'https://' + req.params.v + '.example')
      return { m: req.params.v }
    })
  })
  const c = await connect(t, port)
  const paths = ['/p', '/x/one', '/p', '/p', '/x/two', '/p', { url: '/p', version: '1.0' }]
  c.write(Buffer.concat(paths.map((p) => typeof p === 'string' ? get(p) : get(p.url, { version: p.version, headers: { Connection: 'keep-alive' } }))))
  const rs = await c.readResponses(paths.length)
  for (const [i, p] of paths.entries()) {
    const url = typeof p === 'string' ? p : p.url
    const r = rs[i]
    if (url === '/p') {
      t.equal(r.headers['access-control-allow-origin'], '*', `${i} ${url}: the preset line`)
      t.notOk('x-v' in r.headers, `${i} ${url}: no other reply's field`)
      t.equal(r.body.toString(), '{"m":"p"}')
    } else {
      const v = url.slice(3)
      t.equal(r.headers['access-control-allow-origin'], `https://${v}.example`, `${i} ${url}: replaced`)
      t.equal(r.headers['x-v'], v)
      t.equal(r.body.toString(), JSON.stringify({ m: v }))
    }
  }
  t.equal(rs[paths.length - 1].headers.connection, 'keep-alive', 'HTTP/1.0 keep-alive answer with the preset lines')
})
