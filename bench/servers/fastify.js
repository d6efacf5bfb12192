'use strict'
// Peer: fastify 5 with salvo.js's three hello routes. Returning a string (from
// a sync or an async handler) makes it send text/plain; charset=utf-8 with a
// Content-Length.
const fastify = require('fastify')({ logger: false })

fastify.get('/', () => 'Hello world!')
fastify.get('/async', async () => 'Hello world!')
fastify.get('/immediate', () => new Promise((resolve) => setImmediate(() => resolve('Hello world!'))))

fastify.listen({ port: Number(process.env.PORT), host: '127.0.0.1' }).then(() => {
  console.log('listening ' + fastify.server.address().port)
}, (err) => {
  console.error(err)
  process.exit(1)
})
