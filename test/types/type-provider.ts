// Type test: app.withTypeProvider<JsonSchemaToTsProvider>() types req.body, req.query,
// req.params, req.headers and the handler's return from the route's JSON Schemas
// (compiled by test/api-types.test.mjs). `// @ts-expect-error` lines must fail to compile.
import { App, type Request, type TypeProvider } from '../../dist/index'
import type { JsonSchemaToTsProvider } from '../../dist/json-schema-to-ts'

/** Exact type equality. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function expectType<T extends true>(_v?: T): void {}

const app = new App().withTypeProvider<JsonSchemaToTsProvider>()

const todo = {
  type: 'object',
  properties: { title: { type: 'string' }, done: { type: 'boolean' } },
  required: ['title'],
  additionalProperties: false,
} as const

app.post('/todos/:list', {
  schema: {
    body: todo,
    querystring: { type: 'object', properties: { limit: { type: 'integer' } }, additionalProperties: false },
    params: { type: 'object', properties: { list: { type: 'integer' } }, required: ['list'], additionalProperties: false },
    headers: { type: 'object', properties: { 'x-user': { type: 'string' } }, required: ['x-user'] },
    response: { 201: { type: 'object', properties: { id: { type: 'number' }, title: { type: 'string' } }, required: ['id', 'title'], additionalProperties: false } },
  } as const,
}, (req, res) => {
  expectType<Equal<typeof req.body, { title: string; done?: boolean }>>()
  expectType<Equal<typeof req.query, { limit?: number }>>()
  expectType<Equal<typeof req.params, { list: number }>>()
  const user: string = req.headers['x-user']
  const title: string = req.body.title
  // @ts-expect-error: not a property of the body schema
  req.body.nope
  // @ts-expect-error: done is optional: possibly undefined
  const done: boolean = req.body.done
  // @ts-expect-error: the list parameter is an integer, not a string
  const list: string = req.params.list
  // @ts-expect-error: not in the querystring schema (additionalProperties: false)
  req.query.page
  void [user, title, done, list]
  res.status(201)
  return { id: 1, title }
})

// The return type follows schema.response.
app.get('/todo', { schema: { response: { 200: todo } } }, () => ({ title: 'x', done: true }))
// @ts-expect-error: the 200 schema requires title
app.get('/bad-return', { schema: { response: { 200: todo } } }, () => ({ done: true }))
// @ts-expect-error: a string is not the declared object
app.get('/bad-return2', { schema: { response: { 200: todo } } }, () => 'text')
// Async handlers and handlers that answer with res.send() (returning nothing) are fine.
app.get('/async', { schema: { response: { 200: todo } } }, async () => ({ title: 'a' }))
app.get('/sent', { schema: { response: { 200: todo } } }, (req, res) => { res.send({ title: 'b' }) })
// @ts-expect-error: a promise of the wrong shape
app.get('/async-bad', { schema: { response: { 200: todo } } }, async () => ({ title: 1 }))
// Several statuses: the union of their types.
app.get('/either', { schema: { response: { 200: todo, 404: { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] } } } as const }, (req, res) => {
  if (req.query) return res.status(404).send({ error: 'no' })
  return Math.random() > 0.5 ? { title: 't' } : { error: 'gone' }
})

// The `const` type parameter: no `as const` needed for inline schemas.
app.put('/inline', { schema: { body: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] } } }, (req) => {
  expectType<Equal<typeof req.body, { [x: string]: unknown; n: number }>>()
  return req.body.n
})

// Parts without a schema keep the untyped defaults; params still come from the path.
app.get('/u/:id', { schema: { querystring: { type: 'object', properties: { q: { type: 'string' } } } } as const }, (req) => {
  expectType<Equal<typeof req.params, { id: string }>>()
  expectType<Equal<typeof req.body, Buffer>>()
  const q: string | undefined = req.query.q as string | undefined
  // @ts-expect-error: only :id
  req.params.nope
  return q ?? ''
})
app.get('/plain/:id', (req) => {
  expectType<Equal<typeof req.params, { id: string }>>()
  return req.params.id
})

// route() is typed the same way.
app.route({
  method: 'POST',
  url: '/r',
  schema: { body: todo },
  handler: (req) => {
    expectType<Equal<typeof req.body, { title: string; done?: boolean }>>()
    // @ts-expect-error: not in the schema
    return req.body.other
  },
})

// A typed request is still a Request (helpers typed with Request accept it).
function helper(r: Request<any, any, any, any>): string { return r.method }
app.post('/h', { schema: { body: todo } }, (req) => helper(req))

// Without a type provider, schemas change nothing: body stays a Buffer, the return type is open.
const plain = new App()
plain.post('/p', { schema: { body: todo, response: { 200: todo } } }, (req) => {
  expectType<Equal<typeof req.body, Buffer>>()
  return 'anything'
})

// A provider of one's own: the generic interface, no schema library.
interface NumberProvider extends TypeProvider { readonly output: this['schema'] extends { type: 'number' } ? number : unknown }
new App().withTypeProvider<NumberProvider>().post('/n', { schema: { body: { type: 'number' } } }, (req) => {
  expectType<Equal<typeof req.body, number>>()
  return String(req.body)
})

// Plugins registered on a typed app get a typed instance.
app.register(async (child) => {
  child.post('/in-plugin', { schema: { body: todo } }, (req) => req.body.title)
  // @ts-expect-error: not in the schema
  child.post('/in-plugin2', { schema: { body: todo } }, (req) => req.body.nope)
})
