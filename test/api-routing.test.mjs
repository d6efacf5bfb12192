// API spec, "App" routing items: method helpers, app.route(), response schemas,
// static/param/wildcard paths and their precedence, 405 + Allow, HEAD from GET,
// setNotFoundHandler. Every behaviour runs over a real socket and through inject().

import t from 'tap'
import { forBoth, salvo, socketRequest, listenApp } from './helpers/api.mjs'

const METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete', 'options']

t.test('method helpers return the app (chaining)', async (t) => {
  const { App } = salvo()
  const app = new App()
  for (const m of [...METHODS, 'all']) {
    t.equal(app[m](`/chain/${m}`, () => m), app, `app.${m}() returns app`)
  }
  t.equal(app.route({ method: 'GET', url: '/chain/route', handler: () => 'r' }), app, 'app.route() returns app')
  t.equal(app.setNotFoundHandler(() => 'nf'), app, 'setNotFoundHandler returns app')
  t.equal(app.setErrorHandler(() => 'e'), app, 'setErrorHandler returns app')
  t.equal(app.addHook('onRequest', () => {}), app, 'addHook returns app')
  t.equal(app.decorateRequest('chainDeco', 1), app, 'decorateRequest returns app')
})

forBoth(t, 'each method helper answers its method only', {
  setup (app) {
    for (const m of METHODS) app[m]('/m', (req) => `${m}:${req.method}`)
  }
}, async (t, { request }) => {
  for (const m of METHODS) {
    const method = m.toUpperCase()
    const r = await request({ method, url: '/m' })
    t.equal(r.statusCode, 200, `${method} /m status`)
    if (method === 'HEAD') {
      t.equal(r.body, '', 'HEAD has no body')
      t.equal(r.headers['content-length'], String(Buffer.byteLength('head:HEAD')), 'HEAD Content-Length of what the HEAD handler returned')
    } else {
      t.equal(r.body, `${m}:${method}`, `${method} /m body`)
    }
  }
})

forBoth(t, 'app.all() answers every method, including unregistered names', {
  setup (app) {
    app.all('/any', (req) => `all:${req.method}`)
  }
}, async (t, { request }) => {
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PURGE']) {
    const r = await request({ method, url: '/any' })
    t.equal(r.statusCode, 200, `${method} status`)
    t.equal(r.body, `all:${method}`, `${method} body`)
  }
})

forBoth(t, 'app.route() with a method string, an array, and a schema', {
  setup (app) {
    app.route({ method: 'GET', url: '/r/one', handler: () => 'one' })
    app.route({ method: ['GET', 'POST'], url: '/r/two', handler: (req) => `two:${req.method}` })
    app.route({
      method: 'GET',
      url: '/r/schema',
      schema: { response: { 200: { type: 'object', properties: { a: { type: 'integer' }, s: { type: 'string' } } } } },
      handler: () => ({ a: '7', s: 5, secret: 'must be dropped' })
    })
  }
}, async (t, { request }) => {
  t.equal((await request({ url: '/r/one' })).body, 'one')
  t.equal((await request({ url: '/r/two' })).body, 'two:GET')
  t.equal((await request({ method: 'POST', url: '/r/two', body: '' })).body, 'two:POST')
  const del = await request({ method: 'DELETE', url: '/r/two' })
  t.equal(del.statusCode, 405, 'a method the route() array does not name is 405')
  const s = await request({ url: '/r/schema' })
  t.equal(s.statusCode, 200)
  t.match(s.headers['content-type'], /^application\/json; charset=utf-8$/i)
  t.same(s.json(), { a: 7, s: '5' }, 'serialized by the schema: coerced, extra property dropped')
})

forBoth(t, 'schema.response is per status (options argument of the method helpers)', {
  setup (app) {
    app.get('/sch', {
      schema: {
        response: {
          200: { type: 'object', properties: { ok: { type: 'boolean' } } },
          201: { type: 'object', properties: { id: { type: 'string' } } }
        }
      }
    }, (req, res) => {
      if (req.query.created) { res.status(201); return { id: 12, ok: true, extra: 1 } }
      if (req.query.none) { res.status(202); return { any: 'thing', n: 1 } }
      return { ok: 1, id: 'x', extra: 1 }
    })
  }
}, async (t, { request }) => {
  const a = await request({ url: '/sch' })
  t.same(a.json(), { ok: true }, '200 schema')
  const b = await request({ url: '/sch?created=1' })
  t.equal(b.statusCode, 201)
  t.same(b.json(), { id: '12' }, '201 schema')
  const c = await request({ url: '/sch?none=1' })
  t.equal(c.statusCode, 202)
  t.same(c.json(), { any: 'thing', n: 1 }, 'a status without a schema: plain JSON.stringify')
})

forBoth(t, 'static, param and wildcard paths', {
  setup (app) {
    app.get('/a/b', () => 'static a/b')
    app.get('/users/:id', (req) => ({ params: req.params }))
    app.get('/users/:id/posts/:post', (req) => ({ params: req.params }))
    app.get('/files/*', (req) => ({ params: req.params }))
  }
}, async (t, { request }) => {
  t.equal((await request({ url: '/a/b' })).body, 'static a/b')
  t.same((await request({ url: '/users/42' })).json(), { params: { id: '42' } })
  t.same((await request({ url: '/users/42?x=1' })).json(), { params: { id: '42' } }, 'query is not part of the params')
  t.same((await request({ url: '/users/u1/posts/p-9' })).json(), { params: { id: 'u1', post: 'p-9' } })
  t.same((await request({ url: '/files/a/b/c.txt' })).json(), { params: { '*': 'a/b/c.txt' } }, 'wildcard: rest of the path')
  t.same((await request({ url: '/files/x' })).json(), { params: { '*': 'x' } })
  t.same((await request({ url: '/files/' })).json(), { params: { '*': '' } }, "wildcard may be ''")
  t.equal((await request({ url: '/users/42/nope' })).statusCode, 404, 'param does not match more segments')
  t.equal((await request({ url: '/a/b/c' })).statusCode, 404)
  t.equal((await request({ url: '/a' })).statusCode, 404)
})

// static > param > wildcard regardless of registration order
for (const order of [['wild', 'param', 'static'], ['static', 'param', 'wild'], ['param', 'wild', 'static']]) {
  forBoth(t, `precedence static > param > wildcard (registered ${order.join(', ')})`, {
    setup (app) {
      for (const kind of order) {
        if (kind === 'wild') app.get('/p/*', (req) => `wild:${req.params['*']}`)
        if (kind === 'param') app.get('/p/:x', (req) => `param:${req.params.x}`)
        if (kind === 'static') app.get('/p/fixed', () => 'static')
      }
    }
  }, async (t, { request }) => {
    t.equal((await request({ url: '/p/fixed' })).body, 'static')
    t.equal((await request({ url: '/p/other' })).body, 'param:other')
    t.equal((await request({ url: '/p/a/b' })).body, 'wild:a/b')
    t.equal((await request({ url: '/p/fixed/more' })).body, 'wild:fixed/more')
  })
}

forBoth(t, '405 with Allow for a path that exists under other methods', {
  setup (app) {
    app.get('/only', () => 'g')
    app.post('/only', () => 'p')
    app.put('/putonly', () => 'u')
    app.get('/items/:id', () => 'item')
    app.delete('/items/:id', () => 'deleted')
  }
}, async (t, { request }) => {
  const r = await request({ method: 'DELETE', url: '/only' })
  t.equal(r.statusCode, 405)
  t.equal(r.statusMessage, 'Method Not Allowed')
  const allow = r.headers.allow
  t.type(allow, 'string', 'Allow header present')
  t.match(allow, /^[A-Z]+(, [A-Z]+)*$/, 'comma+space separated')
  const set = new Set(allow.split(', '))
  t.ok(set.has('GET') && set.has('POST'), `Allow names GET and POST: ${allow}`)
  t.notOk(set.has('DELETE') || set.has('PUT'), 'Allow names no other method')
  for (const m of set) t.ok(['GET', 'POST', 'HEAD'].includes(m), `Allow lists only registered methods (+HEAD): ${m}`)
  t.equal(r.json().code, 'SALVO_ERR_METHOD_NOT_ALLOWED')

  const p = await request({ method: 'GET', url: '/putonly' })
  t.equal(p.statusCode, 405)
  t.same(p.headers.allow.split(', '), ['PUT'], 'only PUT')

  const i = await request({ method: 'POST', url: '/items/3', body: 'x' })
  t.equal(i.statusCode, 405, 'param routes give 405 too')
  const iset = new Set(i.headers.allow.split(', '))
  t.ok(iset.has('GET') && iset.has('DELETE'), `Allow of a param route: ${i.headers.allow}`)
})

forBoth(t, 'HEAD is answered from the GET route without a body, same headers', {
  setup (app) {
    app.get('/h/text', (req, res) => { res.header('X-Mine', 'yes'); return 'hello head' })
    app.get('/h/json', () => ({ a: 1, b: [1, 2, 3] }))
    app.get('/h/buf', () => Buffer.alloc(1000, 7))
    app.get('/h/:p', (req) => `param ${req.params.p}`)
  }
}, async (t, { request, mode }) => {
  for (const url of ['/h/text', '/h/json', '/h/buf', '/h/abc']) {
    const g = await request({ url })
    const h = await request({ method: 'HEAD', url })
    t.equal(h.statusCode, 200, `HEAD ${url} status`)
    t.equal(h.body, '', `HEAD ${url}: no body`)
    if (mode === 'socket') t.equal(h.extraBytes, 0, `HEAD ${url}: no bytes after the head on the wire`)
    t.equal(h.headers['content-length'], g.headers['content-length'], `HEAD ${url}: Content-Length of the GET answer`)
    t.equal(h.headers['content-type'], g.headers['content-type'], `HEAD ${url}: Content-Type of the GET answer`)
    if (url === '/h/text') t.equal(h.headers['x-mine'], 'yes', 'handler headers kept')
  }
})

t.test('HEAD on a keep-alive connection: the next response is framed right', async (t) => {
  const { port } = await listenApp(t, {
    setup (app) {
      app.get('/k', () => 'body-of-k')
    }
  })
  const { RawClient } = await import('./helpers/raw-client.mjs')
  const c = await RawClient.connect(port)
  t.teardown(() => c.destroy())
  await c.write('HEAD /k HTTP/1.1\r\nHost: x\r\n\r\nGET /k HTTP/1.1\r\nHost: x\r\n\r\n')
  // The HEAD response carries Content-Length: 9 but no body: after its head the GET response must start.
  await c._waitFor(() => (c.buf.includes('body-of-k') ? true : undefined), 10_000, 'GET after HEAD')
  const s = c.buf.toString('latin1')
  const second = s.indexOf('HTTP/1.1 200', 1)
  t.ok(second > 0, 'two responses')
  t.notOk(s.slice(0, second).includes('body-of-k'), 'no body bytes in the HEAD response')
  t.ok(s.slice(0, second).endsWith('\r\n\r\n'), 'HEAD response is a head only')
})

forBoth(t, 'setNotFoundHandler answers unmatched paths', {
  setup (app) {
    app.get('/exists', () => 'yes')
    app.setNotFoundHandler((req, res) => { res.status(404); return { custom: true, path: req.path } })
  }
}, async (t, { request }) => {
  const r = await request({ url: '/missing/thing?q=1' })
  t.equal(r.statusCode, 404)
  t.same(r.json(), { custom: true, path: '/missing/thing' })
  t.equal((await request({ url: '/exists' })).body, 'yes')
})

forBoth(t, 'setNotFoundHandler: its value is sent with the usual conversions (async too)', {
  setup (app) {
    app.setNotFoundHandler(async (req) => `nothing at ${req.url}`)
  }
}, async (t, { request }) => {
  const r = await request({ url: '/x' })
  t.ok(r.statusCode === 200 || r.statusCode === 404, `status 200 or 404 (spec leaves it open): ${r.statusCode}`)
  t.equal(r.body, 'nothing at /x')
  t.match(r.headers['content-type'], /^text\/plain; charset=utf-8$/i)
})

forBoth(t, 'percent-encoded path segments route and decode', {
  setup (app) {
    app.get('/enc/:name', (req) => req.params.name)
  }
}, async (t, { request }) => {
  const r = await request({ url: '/enc/a%20b' })
  t.equal(r.statusCode, 200)
  t.ok(r.body === 'a b' || r.body === 'a%20b', `param value of an escaped segment: ${r.body}`)
})

t.test('socket and inject give the same answer for the same request', async (t) => {
  const setup = (app) => {
    app.get('/same/:id', (req, res) => { res.status(201).header('X-A', 'b'); return { id: req.params.id, q: req.query } })
  }
  const { port } = await listenApp(t, { setup })
  const { App } = salvo()
  const app2 = new App()
  setup(app2)
  const s = await socketRequest(port, { url: '/same/9?z=1' })
  const i = await app2.inject({ url: '/same/9?z=1' })
  t.equal(s.statusCode, i.statusCode)
  t.equal(s.statusMessage, i.statusMessage)
  t.equal(s.body, i.body)
  for (const h of ['content-type', 'content-length', 'x-a']) t.equal(s.headers[h], i.headers[h], h)
})

t.test('a handler that sets 405 itself does not inherit an earlier Allow header (pipelined)', async (t) => {
  const { port } = await listenApp(t, {
    setup (app) {
      app.get('/only', () => 'g')
      app.get('/own405', (req, res) => { res.status(405); return 'my own 405' })
    }
  })
  const { connect } = await import('./helpers/raw-client.mjs')
  const { buildRequest } = await import('./helpers/api.mjs')
  const c = await connect(t, port)
  await c.write(Buffer.concat([buildRequest({ method: 'DELETE', url: '/only' }), buildRequest({ url: '/own405' })]))
  const [a, b] = await c.readResponses(2)
  t.equal(a.status, 405)
  t.ok('allow' in a.headers, 'the routing 405 has Allow')
  t.equal(b.status, 405)
  t.equal(b.text, 'my own 405')
  t.notOk('allow' in b.headers, `no stale Allow: ${b.headers.allow}`)
})
