'use strict'
// Peer: fastify 5 hello world; returning a string makes it send
// text/plain; charset=utf-8 with a Content-Length.
const fastify = require('fastify')({ logger: false })

fastify.get('/', async () => 'Hello world!')

fastify.listen({ port: Number(process.env.PORT), host: '127.0.0.1' }).then(() => {
  console.log('listening ' + fastify.server.address().port)
}, (err) => {
  console.error(err)
  process.exit(1)
})
