'use strict'
// Baseline: examples/tfb.ts's TechEmpower service on bare node:http, the same
// driver (`postgres`), pool (TFB_POOL, default 1), queries and 503 on a
// database failure; JSON.stringify for bodies. DATABASE_URL, PORT.
const http = require('node:http')
const { count, oneWorld, worlds, fortunes, updates, fillCache, cached } = require('./tfb-db')

function send (res, status, type, body) {
  res.writeHead(status, { Server: 'node', 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) })
  res.end(body)
}
const JSON_TYPE = 'application/json; charset=utf-8'
const json = (res, v) => send(res, 200, JSON_TYPE, JSON.stringify(v))
const fail = (res, err) => send(res, 503, JSON_TYPE, JSON.stringify({ statusCode: 503, code: 'TFB_ERR_DB_UNAVAILABLE', error: 'Service Unavailable', message: `database unavailable (${err.code || 'ERROR'})` }))

const server = http.createServer((req, res) => {
  const q = req.url.indexOf('?')
  const path = q < 0 ? req.url : req.url.slice(0, q)
  const query = q < 0 ? null : new URLSearchParams(req.url.slice(q + 1))
  switch (path) {
    case '/plaintext': return send(res, 200, 'text/plain; charset=utf-8', 'Hello, World!')
    case '/json': return json(res, { message: 'Hello, World!' })
    case '/db': return void oneWorld().then((w) => json(res, w), (e) => fail(res, e))
    case '/queries': return void worlds(count(query?.get('queries') ?? undefined)).then((w) => json(res, w), (e) => fail(res, e))
    case '/fortunes': return void fortunes().then((h) => send(res, 200, 'text/html; charset=utf-8', h), (e) => fail(res, e))
    case '/updates': return void updates(count(query?.get('queries') ?? undefined)).then((w) => json(res, w), (e) => fail(res, e))
    case '/cached-queries': {
      return json(res, cached(count(query?.get('count') ?? undefined)))
    }
    default: return send(res, 404, 'text/plain; charset=utf-8', 'Not Found')
  }
})

fillCache().then(() => {
  server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
    console.log('tfb-node: listening on http://127.0.0.1:' + server.address().port + '/')
  })
}, (err) => {
  console.error(err)
  process.exit(1)
})
