'use strict'
// salvo with the first-party cors and compress plugins app-wide (they apply
// to every route, so they get their own server: the hello routes of
// salvo.js stay hook-free). The body is below compress's threshold: what the
// plugins cost when they have nothing to compress.
const { App, cors, compress } = require('./load-salvo')
const gc = require('./gc-report')

// The same route as salvo.js's /json (a response schema, fast-json-stringify): the case's
// costOf is salvo-json, so the difference is what the two plugins cost.
const JSON_SCHEMA = { response: { 200: { type: 'object', properties: { message: { type: 'string' } } } } }

const app = new App()
cors(app, { origin: '*' })
compress(app)
app.get('/cors-compress', { schema: JSON_SCHEMA }, () => ({ message: 'Hello, World!' }))

app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' }).then((server) => {
  gc.start(() => server.stats())
  console.log('listening ' + server.port)
})
