'use strict'
// Peer: examples/tfb.ts's TechEmpower service on fastify 5, the same driver
// (`postgres`), the same pool (TFB_POOL, default 2), the same queries, the same
// response schemas, the same 503 on a database failure. DATABASE_URL, PORT.
const fastify = require('fastify')({ logger: false })
const { sql, randomId, count, oneWorld, worlds, escapeHtml } = require('./tfb-db')

const cache = []
const WORLD = { type: 'object', properties: { id: { type: 'integer' }, randomNumber: { type: 'integer' } } }
const WORLDS = { type: 'array', items: WORLD }

fastify.addHook('onSend', (req, reply, payload, done) => { reply.header('Server', 'fastify'); done(null, payload) })
fastify.setErrorHandler((err, req, reply) => {
  reply.code(503).send({ statusCode: 503, code: 'TFB_ERR_DB_UNAVAILABLE', error: 'Service Unavailable', message: `database unavailable (${err.code || 'ERROR'})` })
})

fastify.get('/plaintext', (req, reply) => { reply.type('text/plain; charset=utf-8'); return 'Hello, World!' })
fastify.get('/json', { schema: { response: { 200: { type: 'object', properties: { message: { type: 'string' } } } } } }, () => ({ message: 'Hello, World!' }))
fastify.get('/db', { schema: { response: { 200: WORLD } } }, oneWorld)
fastify.get('/queries', { schema: { response: { 200: WORLDS } } }, (req) => worlds(count(req.query.queries)))
fastify.get('/fortunes', async (req, reply) => {
  const rows = (await sql`SELECT id, message FROM fortune`).map((r) => ({ id: r.id, message: r.message }))
  rows.push({ id: 0, message: 'Additional fortune added at request time.' })
  rows.sort((a, b) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0))
  let html = '<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table><tr><th>id</th><th>message</th></tr>'
  for (const r of rows) html += `<tr><td>${r.id}</td><td>${escapeHtml(r.message)}</td></tr>`
  reply.type('text/html; charset=utf-8')
  return html + '</table></body></html>'
})
fastify.get('/updates', { schema: { response: { 200: WORLDS } } }, async (req) => {
  const rows = await worlds(count(req.query.queries))
  const byId = new Map()
  for (const w of rows) byId.set(w.id, randomId())
  for (const w of rows) w.randomNumber = byId.get(w.id)
  const ids = [...byId.keys()].sort((a, b) => a - b)
  await sql`UPDATE world SET randomnumber = v.r::int FROM (VALUES ${sql(ids.map((id) => [id, byId.get(id)]))}) AS v (id, r) WHERE world.id = v.id::int`
  return rows
})
fastify.get('/cached-queries', { schema: { response: { 200: WORLDS } } }, (req) => {
  const n = count(req.query.count)
  const out = new Array(n)
  for (let i = 0; i < n; i++) out[i] = cache[randomId()]
  return out
})

sql`SELECT id, randomnumber FROM world`.then((rows) => {
  for (const r of rows) cache[r.id] = { id: r.id, randomNumber: r.randomnumber }
  return fastify.listen({ port: Number(process.env.PORT || 0), host: '127.0.0.1' })
}).then(() => {
  console.log('tfb-fastify: listening on http://127.0.0.1:' + fastify.server.address().port + '/')
}, (err) => {
  console.error(err)
  process.exit(1)
})
