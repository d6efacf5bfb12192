// Issue 11, item 2: app.register() with fastify's encapsulation: hooks, error handlers and
// instance decorators added in a plugin apply to its routes and children only, unless the
// plugin is marked with fp() (skip-override); prefixes nest; async and callback plugins load
// in registration order; after() and ready(); listen() and inject() load plugins first.

import t from 'tap'
import { forBoth, salvo, throwsCode, delay } from './helpers/api.mjs'

const body = (r) => (r.body === undefined ? '' : Buffer.from(r.body).toString())

forBoth(t, 'hooks added in a plugin apply to its routes and children only', {
  setup (app) {
    app.addHook('onRequest', (req, res) => { res.header('x-root', '1') })
    app.get('/top', () => 'top')
    app.register(async (child) => {
      child.addHook('onRequest', (req, res) => { res.header('x-child', '1') })
      child.get('/in', () => 'in')
      child.register(async (grand) => {
        grand.addHook('preHandler', (req, res) => { res.header('x-grand', '1') })
        grand.get('/deep', () => 'deep')
      }, { prefix: '/g' })
    }, { prefix: '/c' })
    app.register(async (sibling) => { sibling.get('/sib', () => 'sib') })
  },
}, async (t, { request }) => {
  let r = await request({ url: '/top' })
  t.equal(r.statusCode, 200)
  t.equal(r.headers['x-root'], '1')
  t.equal(r.headers['x-child'], undefined, 'a parent does not see its child\'s hook')
  r = await request({ url: '/c/in' })
  t.equal(body(r), 'in')
  t.equal(r.headers['x-root'], '1')
  t.equal(r.headers['x-child'], '1')
  t.equal(r.headers['x-grand'], undefined)
  r = await request({ url: '/c/g/deep' })
  t.equal(body(r), 'deep', 'prefixes nest')
  t.same([r.headers['x-root'], r.headers['x-child'], r.headers['x-grand']], ['1', '1', '1'])
  r = await request({ url: '/sib' })
  t.equal(body(r), 'sib')
  t.equal(r.headers['x-child'], undefined, 'a sibling does not see another plugin\'s hook')
  r = await request({ url: '/in' })
  t.equal(r.statusCode, 404, 'a prefixed route is only under its prefix')
})

forBoth(t, 'fp() plugins add to the instance they are registered on', {
  setup (app) {
    const { fp } = salvo()
    app.register(fp(async (inst) => {
      inst.addHook('onRequest', (req, res) => { res.header('x-fp', '1') })
      inst.decorate('db', { name: 'db' })
    }))
    app.register(async (child) => {
      child.get('/uses-db', () => ({ db: child.db.name, has: child.hasDecorator('db') }))
    })
    app.get('/root', () => ({ db: app.db?.name ?? null }))
  },
}, async (t, { request }) => {
  let r = await request({ url: '/root' })
  t.equal(r.headers['x-fp'], '1', 'the fp hook applies at the root')
  t.same(JSON.parse(body(r)), { db: 'db' }, 'the fp decorator is on the app')
  r = await request({ url: '/uses-db' })
  t.same(JSON.parse(body(r)), { db: 'db', has: true })
})

forBoth(t, 'error handlers are encapsulated; the nearest one answers', {
  setup (app) {
    app.setErrorHandler((err, req, res) => { res.status(500); return { by: 'root', m: err.message } })
    app.get('/a', () => { throw new Error('at root') })
    app.register(async (child) => {
      child.setErrorHandler((err, req, res) => { res.status(418); return { by: 'child', m: err.message } })
      child.get('/b', () => { throw new Error('in child') })
      child.register(async (g) => { g.get('/c', async () => { throw new Error('in grandchild') }) })
    }, { prefix: '/p' })
  },
}, async (t, { request }) => {
  let r = await request({ url: '/a' })
  t.equal(r.statusCode, 500)
  t.same(JSON.parse(body(r)), { by: 'root', m: 'at root' })
  r = await request({ url: '/p/b' })
  t.equal(r.statusCode, 418)
  t.same(JSON.parse(body(r)), { by: 'child', m: 'in child' })
  r = await request({ url: '/p/c' })
  t.equal(r.statusCode, 418, 'a grandchild inherits its parent\'s handler')
  t.same(JSON.parse(body(r)), { by: 'child', m: 'in grandchild' })
})

forBoth(t, 'decorators of a plugin are not seen by its parent or siblings', {
  setup (app) {
    app.decorate('conf', 'root')
    app.register(async (child) => {
      child.decorate('secret', 42)
      child.get('/child', () => ({ conf: child.conf, secret: child.secret }))
    })
    app.register(async (sib) => {
      sib.get('/sib', () => ({ conf: sib.conf, has: sib.hasDecorator('secret') }))
    })
    app.get('/root', () => ({ has: app.hasDecorator('secret') }))
  },
}, async (t, { request }) => {
  t.same(JSON.parse(body(await request({ url: '/child' }))), { conf: 'root', secret: 42 })
  t.same(JSON.parse(body(await request({ url: '/sib' }))), { conf: 'root', has: false })
  t.same(JSON.parse(body(await request({ url: '/root' }))), { has: false })
})

forBoth(t, 'a prefixed "/" answers at the prefix and the prefix with a slash', {
  setup (app) {
    app.register(async (api) => { api.get('/', () => 'index') }, { prefix: '/api/' })
  },
}, async (t, { request }) => {
  t.equal(body(await request({ url: '/api' })), 'index')
  t.equal(body(await request({ url: '/api/' })), 'index')
})

forBoth(t, 'a not-found handler set in a prefixed plugin answers under its prefix', {
  setup (app) {
    app.setNotFoundHandler((req, res) => { res.status(404); return 'root 404' })
    app.register(async (api) => {
      api.setNotFoundHandler((req, res) => { res.status(404); return { api: 'no such thing' } })
      api.get('/x', () => 'x')
    }, { prefix: '/api' })
  },
}, async (t, { request }) => {
  let r = await request({ url: '/api/nope' })
  t.equal(r.statusCode, 404)
  t.same(JSON.parse(body(r)), { api: 'no such thing' })
  r = await request({ url: '/apix' })
  t.equal(body(r), 'root 404', 'a path that only starts with the prefix string is not under it')
})

t.test('plugins load in order: async, callback form, children before the next sibling, after()', async (t) => {
  const { App } = salvo()
  const app = new App()
  const log = []
  app.register(async (a) => {
    await delay(5)
    log.push('a')
    a.register(async () => { await delay(5); log.push('a.child') })
  })
  app.register((b, opts, done) => {
    log.push(`b:${opts.x}`)
    setTimeout(done, 1)
  }, { x: 7 })
  app.after((err) => { log.push(`after:${err}`) })
  app.register(async () => { log.push('c') })
  t.same(log, [], 'register() only queues')
  await app.ready()
  t.same(log, ['a', 'a.child', 'b:7', 'after:null', 'c'])
  throwsCode(t, () => app.get('/late', () => 'x'), 'SALVO_ERR_ALREADY_STARTED', 'routes after ready()')
  throwsCode(t, () => app.register(async () => {}), 'SALVO_ERR_ALREADY_STARTED', 'register after ready()')
})

t.test('await app.after() loads what is registered so far; a plugin sees its options without prefix', async (t) => {
  const { App } = salvo()
  const app = new App()
  let seen
  app.register(async (inst, opts) => { seen = opts; inst.decorate('x', 1) }, { prefix: '/p', a: 1 })
  await app.after()
  t.same(seen, { a: 1 })
  const r = await app.inject({ url: '/nothing' })
  t.equal(r.statusCode, 404)
})

t.test('a failing plugin rejects ready(), listen() and inject()', async (t) => {
  const { App } = salvo()
  const app = new App()
  app.register(async () => { throw new Error('boom') })
  await t.rejects(app.ready(), { message: 'boom' })
  const app2 = new App()
  app2.register((i, o, done) => done(new Error('cb boom')))
  await t.rejects(app2.listen({ port: 0 }), { message: 'cb boom' })
  const app3 = new App()
  app3.register(async () => { throw new Error('inj boom') })
  await t.rejects(app3.inject({ url: '/' }), { message: 'inj boom' })
})

t.test('wrong register() calls throw SALVO_ERR_INVALID_ARG', async (t) => {
  const { App } = salvo()
  const app = new App()
  throwsCode(t, () => app.register('nope'), 'SALVO_ERR_INVALID_ARG', 'not a function')
  throwsCode(t, () => app.register(async () => {}, { prefix: 'v1' }), 'SALVO_ERR_INVALID_ARG', 'prefix without /')
  throwsCode(t, () => app.register(async () => {}, { prefix: '/:x' }), 'SALVO_ERR_INVALID_ARG', 'parametric prefix')
  throwsCode(t, () => app.decorate('get', 1), 'SALVO_ERR_DECORATOR_EXISTS', 'decorate over a method')
  app.register({ default: async (i) => { i.get('/m', () => 'module') } })
  const r = await app.inject({ url: '/m' })
  t.equal(r.body, 'module', 'an ES module namespace with a default export is a plugin')
})
