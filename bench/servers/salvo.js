'use strict'
// The product under load: salvo with the benchmark's routes, loaded from the
// package root (dist/). Prints a JSON report line on SIGUSR2 (then resets the
// counters) and on SIGTERM: GC counts and time, native counters, RSS.
const { App } = require('./load-salvo')
const gc = require('./gc-report')

const app = new App()
// Hello world: a JavaScript handler that runs for every request.
app.get('/', () => 'Hello world!')
// JSON with a response schema compiled once by fast-json-stringify.
app.get('/json', {
  schema: { response: { 200: { type: 'object', properties: { message: { type: 'string' } } } } }
}, () => ({ message: 'Hello, World!' }))
// A path parameter and one query parameter.
app.get('/user/:id', (req) => `user ${req.params.id} ${req.query.q}`)
// Hello world behind one (empty) onRequest hook: what a hook costs.
app.get('/hook', { onRequest: () => {} }, () => 'Hello world!')
// A POST whose handler reads the body length.
app.post('/upload', (req) => String(req.body.length))

app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' }).then((server) => {
  gc.start(() => server.stats())
  console.log('listening ' + server.port)
})
