// app.setSerializerCompiler (issue 11 item 1): fastify's ({ schema, method, url, httpStatus }) =>
// (data) => string, used for schema.response instead of fast-json-stringify; compiled once at
// registration; encapsulated (nearest in the plugin chain); bad compilers and results are errors.
// Over a real socket on 127.0.0.1 and through inject().

import t from 'tap'
import { forBoth, salvo, throwsCode } from './helpers/api.mjs'

const user = { type: 'object', properties: { id: { type: 'string' } } }

forBoth(t, 'a custom compiler serializes schema.response, with fastify\'s arguments, once', {
  setup (app) {
    const calls = []
    app.decorate('calls', calls)
    app.setSerializerCompiler(({ schema, method, url, httpStatus }) => {
      calls.push({ schema, method, url, httpStatus })
      // A serializer the default would never produce: it shows which one ran.
      return (data) => JSON.stringify({ wrapped: data, status: httpStatus })
    })
    app.get('/u/:id', { schema: { response: { 200: user, 404: user } } }, (req, res) => {
      if (req.params.id === 'none') res.status(404)
      return { id: req.params.id, secret: 'kept by this serializer' }
    })
    app.get('/plain', () => ({ a: 1 }))
  },
}, async (t, { request, app }) => {
  const calls = app.calls
  t.same(calls.map((c) => [c.method, c.url, c.httpStatus]), [['GET', '/u/:id', '200'], ['GET', '/u/:id', '404']], 'compiled at registration, once per status')
  t.equal(calls[0].schema, user, 'the schema object itself')
  for (let i = 0; i < 3; i++) {
    const r = await request({ url: '/u/7' })
    t.equal(r.statusCode, 200)
    t.match(r.headers['content-type'], /^application\/json/)
    t.same(r.json(), { wrapped: { id: '7', secret: 'kept by this serializer' }, status: '200' })
  }
  const nf = await request({ url: '/u/none' })
  t.equal(nf.statusCode, 404)
  t.same(nf.json(), { wrapped: { id: 'none', secret: 'kept by this serializer' }, status: '404' }, 'the status the reply ends with picks the serializer')
  t.equal(calls.length, 2, 'no compile per request')
  t.same((await request({ url: '/plain' })).json(), { a: 1 }, 'routes without schema.response use JSON.stringify')
})

forBoth(t, 'encapsulated: the nearest compiler in the plugin chain; siblings and the root keep theirs', {
  setup (app) {
    const tag = (name) => () => (data) => JSON.stringify({ by: name, data })
    app.register(async (a) => {
      a.setSerializerCompiler(tag('a'))
      a.get('/a', { schema: { response: { 200: user } } }, () => ({ id: 'x' }))
      a.register(async (inner) => {
        inner.get('/a/inner', { schema: { response: { 200: user } } }, () => ({ id: 'y' }))
        inner.register(async (deeper) => {
          deeper.setSerializerCompiler(tag('deeper'))
          deeper.get('/a/deeper', { schema: { response: { 200: user } } }, () => ({ id: 'z' }))
        })
      })
    })
    app.register(async (b) => {
      b.get('/b', { schema: { response: { 200: user } } }, () => ({ id: 'b', extra: 1 }))
    })
    app.get('/root', { schema: { response: { 200: user } } }, () => ({ id: 'r', extra: 1 }))
  },
}, async (t, { request }) => {
  t.same((await request({ url: '/a' })).json(), { by: 'a', data: { id: 'x' } })
  t.same((await request({ url: '/a/inner' })).json(), { by: 'a', data: { id: 'y' } }, 'a child inherits')
  t.same((await request({ url: '/a/deeper' })).json(), { by: 'deeper', data: { id: 'z' } }, 'a nearer one wins')
  t.same((await request({ url: '/b' })).json(), { id: 'b' }, 'a sibling keeps fast-json-stringify (extra left out)')
  t.same((await request({ url: '/root' })).json(), { id: 'r' }, 'the root keeps fast-json-stringify')
})

forBoth(t, 'routes added before the call keep the compiler they were compiled with', {
  setup (app) {
    app.get('/before', { schema: { response: { 200: user } } }, () => ({ id: '1', extra: true }))
    app.setSerializerCompiler(() => () => '"custom"')
    app.get('/after', { schema: { response: { 200: user } } }, () => ({ id: '2' }))
  },
}, async (t, { request }) => {
  t.same((await request({ url: '/before' })).json(), { id: '1' })
  t.equal((await request({ url: '/after' })).body, '"custom"')
})

forBoth(t, 'a serializer that throws or returns a non-string: 500 SALVO_ERR_RESPONSE_TYPE / its error, not a crash', {
  options: { debug: true },
  setup (app) {
    app.register(async (c) => {
      c.setSerializerCompiler(({ httpStatus }) => httpStatus === '200'
        ? () => 42
        : () => { throw new Error('serializer failed') })
      c.get('/num', { schema: { response: { 200: user } } }, () => ({ id: '1' }))
      c.get('/throw', { schema: { response: { 201: user } } }, (req, res) => res.status(201).send({ id: '1' }))
    })
    app.get('/ok', () => 'still up')
  },
}, async (t, { request }) => {
  const n = await request({ url: '/num' })
  t.equal(n.statusCode, 500)
  t.match(n.json().message, /number from the serializer of GET \/num/)
  const th = await request({ url: '/throw' })
  t.equal(th.statusCode, 500)
  t.match(th.json().message, /serializer failed/)
  t.equal((await request({ url: '/ok' })).body, 'still up')
})

t.test('wrong calls throw SALVO_ERR_INVALID_ARG at registration; after start SALVO_ERR_ALREADY_STARTED', async (t) => {
  const { App } = salvo()
  const app = new App()
  throwsCode(t, () => app.setSerializerCompiler('nope'), 'SALVO_ERR_INVALID_ARG', 'a non-function compiler')
  app.setSerializerCompiler(({ httpStatus }) => {
    if (httpStatus === '500') throw new Error('cannot compile this')
    return httpStatus === '201' ? 'not a function' : (d) => JSON.stringify(d)
  })
  let e = throwsCode(t, () => app.get('/x', { schema: { response: { 500: user } } }, () => 'x'), 'SALVO_ERR_INVALID_ARG', 'the compiler throws')
  t.match(e?.message, /schema\.response\[500\] for GET \/x: cannot compile this/)
  e = throwsCode(t, () => app.get('/y', { schema: { response: { 201: user } } }, () => 'y'), 'SALVO_ERR_INVALID_ARG', 'the compiler returns no function')
  t.match(e?.message, /returned no function/)
  throwsCode(t, () => app.get('/z', { schema: { response: { 200: null } } }, () => 'z'), 'SALVO_ERR_INVALID_ARG', 'a null response schema')
  app.get('/w', { schema: { response: { 200: user } } }, () => ({ id: 'w' }))
  t.same((await app.inject({ url: '/w' })).json(), { id: 'w' })
  throwsCode(t, () => app.setSerializerCompiler(() => () => ''), 'SALVO_ERR_ALREADY_STARTED', 'after inject()')
})
