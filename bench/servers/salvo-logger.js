'use strict'
// Hello world with the logger on (pino, fastify's logger): every request
// writes its "incoming request" and "request completed" lines to /dev/null
// through pino's own default kind of destination (sonic-boom, synchronous,
// no buffering: one write per line). The same route with the logger off is
// the `salvo` case: the difference is what logging costs.
//
// Not the buffered asynchronous destination (minLength 4096, sync false):
// while a write is in flight sonic-boom 4 appends each line to its pending
// chunk and measures that whole chunk again (Buffer.byteLength of up to 16
// KiB, flattened) for every line. Under bench:ir that was 41,000 of the
// 90,000 instructions a request (v8::String::Utf8Length and memcpy), the
// cause of the 54,412 requests/s and of wrk's timeouts: a cost of that
// destination, not of salvo or pino's serialization.
const pino = require('pino')
const { App } = require('./load-salvo')
const gc = require('./gc-report')

const log = pino(pino.destination({ dest: '/dev/null', sync: true }))
const app = new App({ logger: log })
app.get('/', () => 'Hello world!')

app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' }).then((server) => {
  gc.start(() => server.stats())
  console.log('listening ' + server.port)
})
