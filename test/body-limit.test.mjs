// Issue 11, item 3 (bodies): per-route `bodyLimit`.  A body longer than its route's limit is
// answered 413 SALVO_ERR_BODY_TOO_LARGE before any preHandler hook or the handler runs
// (Content-Length and chunked bodies); a body of exactly the limit passes; the connection stays
// usable (the body was read in full: the app's maxBodySize bounds that).  A limit above
// maxBodySize is refused at registration.

import t from 'tap'
import { forBoth, salvo, throwsCode } from './helpers/api.mjs'
import { connect, post } from './helpers/raw-client.mjs'

function setup (app) {
  app.ran = 0
  app.addHook('preHandler', () => { app.ran++ })
  app.post('/small', { bodyLimit: 10 }, (req) => { app.ran++; return `len=${req.body.length}` })
  app.put('/json', { bodyLimit: 20 }, (req) => ({ got: req.body }))
  app.post('/free', (req) => `len=${req.body.length}`)
  app.register(async (c) => {
    c.post('/in', { bodyLimit: 5 }, (req) => `in=${req.body.length}`)
  }, { prefix: '/p' })
  app.addContentTypeParser('application/x-tiny', { bodyLimit: 3 }, (req, body) => body.toString())
  app.post('/tiny', (req) => `tiny=${req.body}`)
}

forBoth(t, 'a body longer than the route bodyLimit: 413 before preHandler and handler', { setup }, async (t, { request, app }) => {
  let r = await request({ method: 'POST', url: '/small', body: 'x'.repeat(10) })
  t.equal(r.statusCode, 200)
  t.equal(r.body, 'len=10', 'exactly the limit passes')
  t.equal(app.ran, 2, 'preHandler + handler ran')
  app.ran = 0
  r = await request({ method: 'POST', url: '/small', body: 'x'.repeat(11) })
  t.equal(r.statusCode, 413)
  t.equal(r.json().code, 'SALVO_ERR_BODY_TOO_LARGE')
  t.match(r.json().message, /bodyLimit \(10 bytes\)/)
  t.equal(app.ran, 0, 'neither preHandler nor handler ran')
  r = await request({ method: 'PUT', url: '/json', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 'y'.repeat(30) }) })
  t.equal(r.statusCode, 413, 'checked before the JSON is parsed')
  r = await request({ method: 'PUT', url: '/json', headers: { 'content-type': 'application/json' }, body: '{"a":1}' })
  t.same(r.json(), { got: { a: 1 } })
  r = await request({ method: 'POST', url: '/free', body: 'z'.repeat(5000) })
  t.equal(r.body, 'len=5000', 'routes without bodyLimit: only maxBodySize')
  r = await request({ method: 'POST', url: '/p/in', body: '123456' })
  t.equal(r.statusCode, 413, 'under a plugin prefix')
  r = await request({ method: 'POST', url: '/p/in', body: '12345' })
  t.equal(r.body, 'in=5')
  r = await request({ method: 'POST', url: '/tiny', headers: { 'content-type': 'application/x-tiny' }, body: 'abcd' })
  t.equal(r.statusCode, 413, "the parser's bodyLimit")
  t.match(r.json().message, /parser's bodyLimit/)
  r = await request({ method: 'POST', url: '/tiny', headers: { 'content-type': 'application/x-tiny' }, body: 'abc' })
  t.equal(r.body, 'tiny=abc')
})

t.test('socket: chunked bodies count decoded bytes; the connection stays open after the 413', async (t) => {
  const { App } = salvo()
  const app = new App()
  let ran = 0
  app.post('/small', { bodyLimit: 10 }, (req) => { ran++; return `len=${req.body.length}` })
  const server = await app.listen({ port: 0 })
  t.teardown(() => server.close({ timeout: 500 }))
  const c = await connect(t, server.port)
  const chunked = (parts) => 'POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' +
    parts.map((p) => `${p.length.toString(16)}\r\n${p}\r\n`).join('') + '0\r\n\r\n'
  await c.write(chunked(['12345', '67890']))
  await c.write(chunked(['12345', '678901']))
  await c.write(post('/small', 'x'.repeat(11)))
  await c.write(post('/small', 'ok'))
  const rs = await c.readResponses(4)
  t.same(rs.map((r) => r.status), [200, 413, 413, 200], 'in order, same connection')
  t.equal(rs[0].body.toString(), 'len=10')
  t.equal(JSON.parse(rs[1].body).code, 'SALVO_ERR_BODY_TOO_LARGE')
  t.equal(rs[3].body.toString(), 'len=2')
  t.equal(ran, 2)
  t.notOk(await c.closedWithin(100), 'not closed: the body was read in full')
})

t.test('bodyLimit is checked at registration', async (t) => {
  const { App } = salvo()
  const app = new App({ maxBodySize: 1000 })
  for (const bad of [0, -1, 1.5, '10', null, 2 ** 31]) {
    throwsCode(t, () => app.post(`/b${String(bad)}`, { bodyLimit: bad }, () => 'x'), 'SALVO_ERR_INVALID_ARG', `bodyLimit ${String(bad)}`)
  }
  const err = throwsCode(t, () => app.post('/big', { bodyLimit: 1001 }, () => 'x'), 'SALVO_ERR_INVALID_ARG', 'above maxBodySize')
  t.match(err.message, /maxBodySize \(1000\)/)
  app.post('/eq', { bodyLimit: 1000 }, () => 'x')
  app.route({ method: 'PATCH', url: '/r', bodyLimit: 4, handler: (req) => `r=${req.body.length}` })
  t.equal((await app.inject({ method: 'PATCH', url: '/r', body: 'abcde' })).statusCode, 413, 'route() takes bodyLimit')
  t.equal((await app.inject({ method: 'PATCH', url: '/r', body: 'abcd' })).body, 'r=4')
})
