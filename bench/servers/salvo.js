'use strict'
// The product under load: salvo with the benchmark's routes, loaded from the
// package root (dist/). Prints a JSON report line on SIGUSR2 (then resets the
// counters) and on SIGTERM: GC counts and time, native counters, RSS.
const { App } = require('./load-salvo')
const gc = require('./gc-report')

const JSON_SCHEMA = { response: { 200: { type: 'object', properties: { message: { type: 'string' } } } } }

const app = new App()
// The three hello routes (the same in node-http.js and fastify.js):
// a synchronous handler, an async one (its promise is already settled when
// salvo sees it), and one that settles on a later turn of the event loop.
app.get('/', () => 'Hello world!')
app.get('/async', async () => 'Hello world!')
app.get('/immediate', () => new Promise((resolve) => setImmediate(() => resolve('Hello world!'))))
// JSON with a response schema compiled once by fast-json-stringify; sync and async.
app.get('/json', { schema: JSON_SCHEMA }, () => ({ message: 'Hello, World!' }))
app.get('/async-json', { schema: JSON_SCHEMA }, async () => ({ message: 'Hello, World!' }))
// A path parameter and one query parameter.
app.get('/user/:id', (req) => `user ${req.params.id} ${req.query.q}`)
// Hello world behind one (empty) onRequest hook: what a hook costs.
app.get('/hook', { onRequest: () => {} }, () => 'Hello world!')
// A POST whose handler reads the body length.
app.post('/upload', (req) => String(req.body.length))
// A POST of a small JSON object validated against schema.body (ajv) before the handler.
const TODO_SCHEMA = {
  body: {
    type: 'object',
    properties: { title: { type: 'string', minLength: 1 }, done: { type: 'boolean' }, priority: { type: 'integer', minimum: 0 } },
    required: ['title'],
    additionalProperties: false
  }
}
app.post('/validate', { schema: TODO_SCHEMA }, () => 'ok')
// A streamed answer: 100 small chunks (chunked transfer coding), then the end.
app.get('/stream', (req, res) => {
  for (let i = 0; i < 100; i++) res.write('chunk ' + i + '\n')
  res.end()
})

app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' }).then((server) => {
  gc.start(() => server.stats())
  console.log('listening ' + server.port)
})
