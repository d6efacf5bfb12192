// Issue 11, item 1: route schema.body / querystring / params / headers validated with ajv
// (fastify's options: coercion, defaults, removeAdditional, formats), 400 SALVO_ERR_VALIDATION
// naming the part and path; setValidatorCompiler, encapsulated.

import t from 'tap'
import { forBoth, salvo } from './helpers/api.mjs'

const todo = {
  schema: {
    params: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
    querystring: { type: 'object', properties: { dry: { type: 'boolean', default: false } } },
    headers: { type: 'object', properties: { 'x-n': { type: 'integer' } } },
    body: {
      type: 'object',
      properties: { title: { type: 'string', minLength: 1 }, due: { type: 'string', format: 'date' } },
      required: ['title'],
      additionalProperties: false,
    },
  },
}
const json = { 'content-type': 'application/json' }

forBoth(t, 'a valid request reaches the handler coerced, with defaults, extras removed', {
  setup (app) {
    app.post('/todos/:id', todo, (req) => ({ id: req.params.id, dry: req.query.dry, body: req.body, n: req.headers['x-n'] }))
  },
}, async (t, { request }) => {
  let r = await request({ method: 'POST', url: '/todos/7', headers: { ...json, 'x-n': '3' }, body: '{"title":"a","extra":1}' })
  t.equal(r.statusCode, 200)
  t.same(JSON.parse(r.body), { id: 7, dry: false, body: { title: 'a' }, n: 3 })
  r = await request({ method: 'POST', url: '/todos/7?dry=true', headers: json, body: '{"title":"a","due":"2026-12-02"}' })
  t.same(JSON.parse(r.body), { id: 7, dry: true, body: { title: 'a', due: '2026-12-02' } })
})

forBoth(t, 'each failing part answers 400 SALVO_ERR_VALIDATION naming it', {
  setup (app) {
    app.post('/todos/:id', todo, () => 'reached')
  },
}, async (t, { request }) => {
  const cases = [
    [{ url: '/todos/x', body: '{"title":"a"}' }, 'params', '/id'],
    [{ url: '/todos/1?dry=maybe', body: '{"title":"a"}' }, 'querystring', '/dry'],
    [{ url: '/todos/1', body: '{"title":"a"}', headers: { 'x-n': 'z' } }, 'headers', '/x-n'],
    [{ url: '/todos/1', body: '{"title":""}' }, 'body', '/title'],
    [{ url: '/todos/1', body: '{"title":"a","due":"yesterday"}' }, 'body', '/due'],
    [{ url: '/todos/1', body: '{}' }, 'body', ''],
  ]
  for (const [o, part, path] of cases) {
    const r = await request({ method: 'POST', ...o, headers: { ...json, ...(o.headers ?? {}) } })
    t.equal(r.statusCode, 400, `${o.url} ${o.body}: 400`)
    const b = JSON.parse(r.body)
    t.equal(b.code, 'SALVO_ERR_VALIDATION')
    t.equal(b.validationContext, part)
    t.equal(b.validation[0].instancePath, path)
    t.match(b.message, new RegExp(`^${part}${path.replace('/', '\\/')} `))
  }
  let r = await request({ method: 'POST', url: '/todos/1', headers: json, body: '{bad' })
  t.equal(r.statusCode, 400)
  t.equal(JSON.parse(r.body).code, 'SALVO_ERR_INVALID_JSON')
  // text/plain has a built-in parser (as in fastify): the string is validated, and is not an object.
  r = await request({ method: 'POST', url: '/todos/1', headers: { 'content-type': 'text/plain' }, body: 'title' })
  t.equal(r.statusCode, 400)
  t.equal(JSON.parse(r.body).code, 'SALVO_ERR_VALIDATION')
  // A type no parser takes (only the raw catch-all would): 415.
  r = await request({ method: 'POST', url: '/todos/1', headers: { 'content-type': 'application/xml' }, body: '<t/>' })
  t.equal(r.statusCode, 415)
  t.equal(JSON.parse(r.body).code, 'SALVO_ERR_UNSUPPORTED_MEDIA_TYPE')
  r = await request({ method: 'POST', url: '/todos/1', headers: json, body: '{"title":"a","__proto__":{"x":1}}' })
  t.equal(JSON.parse(r.body).code, 'SALVO_ERR_PROTO_POISONING')
})

forBoth(t, 'validation runs after onRequest, before preHandler; the error handler sees err.validation', {
  setup (app) {
    const log = []
    app.addHook('onRequest', (req) => { log.push('onRequest') })
    app.addHook('preHandler', (req) => { log.push(`preHandler:${typeof req.body}`) })
    app.setErrorHandler((err, req, res) => { res.status(422); return { part: err.validationContext, log: [...log.splice(0)] } })
    app.post('/v', { schema: { body: { type: 'object', required: ['a'] } } }, () => ({ log: log.splice(0) }))
  },
}, async (t, { request }) => {
  let r = await request({ method: 'POST', url: '/v', headers: json, body: '{"a":1}' })
  t.same(JSON.parse(r.body), { log: ['onRequest', 'preHandler:object'] })
  r = await request({ method: 'POST', url: '/v', headers: json, body: '{"b":1}' })
  t.equal(r.statusCode, 422)
  t.same(JSON.parse(r.body), { part: 'body', log: ['onRequest'] })
})

forBoth(t, 'setValidatorCompiler is encapsulated', {
  setup (app) {
    app.register(async (child) => {
      child.setValidatorCompiler(() => {
        const v = (data) => { v.errors = [{ instancePath: '', message: 'custom says no' }]; return data?.ok === true }
        return v
      })
      child.post('/c', { schema: { body: { type: 'object' } } }, () => 'child ok')
    })
    app.post('/r', { schema: { body: { type: 'object' } } }, () => 'root ok')
  },
}, async (t, { request }) => {
  let r = await request({ method: 'POST', url: '/c', headers: json, body: '{"ok":false}' })
  t.equal(r.statusCode, 400)
  t.equal(JSON.parse(r.body).message, 'body custom says no')
  r = await request({ method: 'POST', url: '/c', headers: json, body: '{"ok":true}' })
  t.equal(r.body, 'child ok')
  r = await request({ method: 'POST', url: '/r', headers: json, body: '{"ok":false}' })
  t.equal(r.body, 'root ok', 'the root keeps ajv')
})

t.test('a schema ajv refuses throws at registration', async (t) => {
  const { App } = salvo()
  const app = new App()
  let e
  try { app.post('/x', { schema: { body: { type: 'nope' } } }, () => 'x') } catch (err) { e = err }
  t.equal(e?.code, 'SALVO_ERR_INVALID_ARG')
  t.match(e?.message, /schema\.body/)
})
