'use strict'
// Hello world with the logger on (pino, fastify's logger): every request
// writes its "incoming request" and "request completed" lines to /dev/null
// through pino's buffered destination (what a production service would use).
// The same route with the logger off is the `salvo` case: the difference is
// what logging costs.
const pino = require('pino')
const { App } = require('./load-salvo')
const gc = require('./gc-report')

const log = pino(pino.destination({ dest: '/dev/null', minLength: 4096, sync: false }))
const app = new App({ logger: log })
app.get('/', () => 'Hello world!')

app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' }).then((server) => {
  gc.start(() => server.stats())
  console.log('listening ' + server.port)
})
