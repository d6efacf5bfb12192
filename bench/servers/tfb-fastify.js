'use strict'
// Peer: examples/tfb.ts's TechEmpower service on fastify 5, the same driver
// (`postgres`), the same pool (TFB_POOL, default 1), the same queries, the same
// response schemas, the same 503 on a database failure. DATABASE_URL, PORT.
const fastify = require('fastify')({ logger: false })
const { count, oneWorld, worlds, fortunes, updates, fillCache, cached } = require('./tfb-db')

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
  const html = await fortunes()
  reply.type('text/html; charset=utf-8')
  return html
})
fastify.get('/updates', { schema: { response: { 200: WORLDS } } }, (req) => updates(count(req.query.queries)))
fastify.get('/cached-queries', { schema: { response: { 200: WORLDS } } }, (req) => {
  return cached(count(req.query.count))
})

fillCache().then(() => {
  return fastify.listen({ port: Number(process.env.PORT || 0), host: '127.0.0.1' })
}).then(() => {
  console.log('tfb-fastify: listening on http://127.0.0.1:' + fastify.server.address().port + '/')
}, (err) => {
  console.error(err)
  process.exit(1)
})
