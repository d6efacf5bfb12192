// Type test (issue 11.1): on a typed app, schema.response types res.send() / res.json() (per
// status when chained after res.status(code), as fastify's reply.code(c).send()), and the
// route's own hooks get the typed reply; preHandler, which runs after validation, also gets the
// typed request, the other hooks the request before validation. Compiled by
// test/api-types.test.mjs; `// @ts-expect-error` lines must fail to compile (an unused one is an error).
import { App, type Reply, type Request } from '../../dist/index'
import type { JsonSchemaToTsProvider } from '../../dist/json-schema-to-ts'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function expectType<T extends true>(_v?: T): void {}

const app = new App().withTypeProvider<JsonSchemaToTsProvider>()

const todo = {
  type: 'object',
  properties: { title: { type: 'string' }, done: { type: 'boolean' } },
  required: ['title'],
  additionalProperties: false,
} as const
const problem = {
  type: 'object',
  properties: { error: { type: 'string' } },
  required: ['error'],
  additionalProperties: false,
} as const
type Todo = { title: string; done?: boolean }
type Problem = { error: string }

// res.send() and res.json() take the declared response type.
app.get('/send', { schema: { response: { 200: todo } } }, (req, res) => {
  res.send({ title: 'a' })
  res.json({ title: 'a', done: true })
  res.send() // no body
  // @ts-expect-error: the 200 schema requires title
  res.send({ done: true })
  // @ts-expect-error: a string is not the declared object
  res.json('text')
  // @ts-expect-error: not a property of the schema (additionalProperties: false)
  res.send({ title: 'a', extra: 1 })
})

// res.status(code) types the payload for that status.
app.post('/status', { schema: { response: { 201: todo, 404: problem } } }, (req, res) => {
  expectType<Equal<Parameters<ReturnType<typeof res.status<404>>['send']>[0], Problem | undefined>>()
  if (req.query) return res.status(404).send({ error: 'none' })
  res.status(201).send({ title: 'made' })
  // @ts-expect-error: 404's body is a problem, not a todo
  res.status(404).send({ title: 'made' })
  // @ts-expect-error: 201's body is a todo
  res.status(201).json({ error: 'x' })
  // A status without a schema takes any body (nothing serializes it by a schema).
  res.status(500).send('boom')
  // Chaining through other methods keeps the typing (they return `this`).
  res.header('x-a', '1').type('application/json').status(404).send({ error: 'e' })
  // @ts-expect-error: still the 404 type after header()
  res.status(404).header('x-a', '1').send({ title: 't' })
  // Without a chained status, the payload may be any declared status's type (the status may be set apart) ...
  res.send({ error: 'either' })
  res.send({ title: 'either' })
  // @ts-expect-error: ... but nothing else
  res.header('x-a', '1').send(42)
  // A status only known as a number: any declared type.
  const code: number = 201
  res.status(code).send({ title: 'n' })
  // @ts-expect-error: not a declared type
  res.status(code).send(7)
})

// Status keys written as strings work the same.
app.get('/string-keys', { schema: { response: { '200': todo } } }, (req, res) => {
  res.status(200).send({ title: 's' })
  // @ts-expect-error: 200 is a todo
  res.status(200).send({ error: 's' })
})

// The typed reply is a Reply: helpers typed with Reply take it; its methods are Reply's.
function finish(r: Reply): void { r.header('x-done', '1') }
app.get('/helper', { schema: { response: { 200: todo } } }, (req, res) => {
  finish(res)
  const same: Reply = res.status(200)
  expectType<Equal<typeof res.sent, boolean>>()
  void same
})

// Route hooks: every hook's res is the typed reply; preHandler gets the validated, typed request.
app.post('/hooks/:id', {
  schema: {
    body: todo,
    params: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
    response: { 200: todo, 401: problem },
  },
  preHandler: (req, res) => {
    expectType<Equal<typeof req.body, Todo>>()
    expectType<Equal<typeof req.params, { [x: string]: unknown; id: number }>>()
    if (!req.headers.authorization) res.status(401).send({ error: 'who?' })
    // @ts-expect-error: not in the body schema
    req.body.nope
  },
  onRequest: [
    (req, res) => {
      // Before validation: the body is still the raw Buffer and params the path's strings.
      expectType<Equal<typeof req.body, Buffer>>()
      expectType<Equal<typeof req.params, { id: string }>>()
      // @ts-expect-error: 401's body is a problem
      res.status(401).send({ title: 'no' })
    },
    async (req, res) => { res.status(401).send({ error: 'later' }) },
  ],
  onSend: (req, res, payload) => {
    expectType<Equal<typeof payload, string | Uint8Array>>()
    res.header('x-len', String(payload.length))
    return payload
  },
  onResponse: (req, res) => {
    const plain: Reply = res
    void plain
    // @ts-expect-error: the typed reply here too
    res.status(200).send({ error: 'late' })
  },
  onError: (req, res, err) => {
    expectType<Equal<typeof err, unknown>>()
  },
}, (req, res) => {
  res.send({ title: req.body.title })
})

// Hooks declared apart, typed with the plain Request and Reply, still fit any route.
const log = (req: Request, res: Reply): void => { void req.url; void res.statusCode }
app.get('/shared-hook', { schema: { response: { 200: todo } }, onRequest: log, preHandler: [log], onResponse: log }, () => ({ title: 'x' }))

// A preHandler typed wrong is caught.
// @ts-expect-error: preHandler's req.body is a todo, not a number
app.post('/bad-hook', { schema: { body: todo }, preHandler: (req: Request<any, number>) => req.body }, () => 'x')

// route() types its hooks the same way.
app.route({
  method: 'POST',
  url: '/r',
  schema: { body: todo, response: { 200: todo } },
  preHandler: (req, res) => {
    expectType<Equal<typeof req.body, Todo>>()
    // @ts-expect-error: 200 is a todo
    res.send({ error: 'x' })
  },
  handler: (req, res) => { res.send(req.body) },
})

// Without schema.response the reply is the plain Reply; without a provider, too (send takes anything).
app.get('/no-response-schema', { schema: { body: todo } }, (req, res) => {
  expectType<Equal<typeof res, Reply>>()
  res.send(42)
})
new App().get('/plain', { schema: { response: { 200: todo } } }, (req, res) => {
  expectType<Equal<typeof res, Reply>>()
  res.send('anything')
})
new App().get('/plain-hooks/:id', { preHandler: (req, res) => {
  expectType<Equal<typeof res, Reply>>()
  expectType<Equal<typeof req.params, { id: string }>>()
} }, (req) => req.params.id)
