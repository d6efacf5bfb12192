// Issue 11, item 2: request decorators are encapsulated like fastify's. A decorateRequest()
// inside a plugin is seen by that plugin's routes and its children's, never by its parent or
// its siblings; an fp() plugin decorates the instance it is registered on; siblings may use
// the same name. Routes matched by the addon (static paths) and by the JS router (params,
// %-escaped paths, custom methods) both get their context's request class. Socket and inject.

import t from 'tap'
import { forBoth, salvo, throwsCode } from './helpers/api.mjs'

const json = (r) => JSON.parse(r.body)

function see (req) {
  return { user: req.user ?? 'none', tag: req.tag ?? 'none', fpTag: req.fpTag ?? 'none', hello: typeof req.hello === 'function' ? req.hello() : 'none' }
}

forBoth(t, 'decorateRequest in a plugin: its routes and children only', {
  setup (app) {
    const { fp } = salvo()
    app.decorateRequest('tag', 'root')
    app.get('/top', see)
    app.get('/top/:id', see)
    app.register(async (child) => {
      child.decorateRequest('user', null)
      child.decorateRequest('hello', function () { return `hi ${this.method}` })
      child.addHook('onRequest', (req) => { req.user = 'alice' })
      child.get('/in', see)
      child.get('/in/:id', see)
      child.register(async (grand) => {
        grand.get('/deep', see)
      }, { prefix: '/g' })
    }, { prefix: '/c' })
    app.register(async (sibling) => {
      sibling.get('/sib', see)
      sibling.get('/sib/:id', see)
    })
    app.register(fp(async (inst) => {
      inst.decorateRequest('fpTag', 'fp')
    }))
  },
}, async (t, { request }) => {
  const top = { user: 'none', tag: 'root', fpTag: 'fp', hello: 'none' }
  const inside = { user: 'alice', tag: 'root', fpTag: 'fp', hello: 'hi GET' }
  const sib = { user: 'none', tag: 'root', fpTag: 'fp', hello: 'none' }
  t.same(json(await request({ url: '/top' })), top, 'the parent does not see a child\'s decorators (addon-matched route)')
  t.same(json(await request({ url: '/top/1' })), top, 'the parent does not see a child\'s decorators (JS router)')
  t.same(json(await request({ url: '/c/in' })), inside, 'a plugin\'s route sees its decorators and the root\'s')
  t.same(json(await request({ url: '/c/in/7' })), inside, 'the same through the JS router')
  t.same(json(await request({ url: '/c/%69n' })), inside, 'a %-escaped path (JS router) gets the route\'s class')
  t.same(json(await request({ url: '/c/g/deep' })), inside, 'a child of the plugin sees them')
  t.same(json(await request({ url: '/sib' })), sib, 'a sibling does not')
  t.same(json(await request({ url: '/sib/2' })), sib, 'a sibling does not (JS router)')
  const nf = await request({ url: '/c/nothing' })
  t.equal(nf.statusCode, 404, 'unmatched paths still answer 404')
})

forBoth(t, 'siblings may use the same decorator name with their own values', {
  setup (app) {
    app.register(async (a) => {
      a.decorateRequest('who', 'A')
      a.decorateRequest('kind', { getter: (req) => `a:${req.path}` })
      a.get('/a', (req) => `${req.who} ${req.kind}`)
    })
    app.register(async (b) => {
      b.decorateRequest('who', 'B')
      b.decorateRequest('kind', function () { return 'b-method' })
      b.get('/b', (req) => `${req.who} ${req.kind()}`)
    })
    app.get('/none', (req) => String(req.who))
  },
}, async (t, { request }) => {
  t.equal((await request({ url: '/a' })).body, 'A a:/a')
  t.equal((await request({ url: '/b' })).body, 'B b-method')
  t.equal((await request({ url: '/none' })).body, 'undefined', 'the root sees neither')
})

forBoth(t, 'a primitive default starts fresh on each request of its context', {
  setup (app) {
    app.register(async (p) => {
      p.decorateRequest('count', 0)
      p.get('/n', (req) => { req.count++; return String(req.count) })
    })
  },
}, async (t, { request }) => {
  for (let i = 0; i < 3; i++) t.equal((await request({ url: '/n' })).body, '1', `request ${i}: its own default`)
})

forBoth(t, 'a decorator added by the parent after a child decorated is still seen by the child', {
  setup (app) {
    app.register(async (p) => {
      p.register(async (c) => {
        c.decorateRequest('own', 'c')
        c.get('/c', (req) => `${req.own} ${req.late}`)
      })
      p.after(() => { p.decorateRequest('late', 'p') })
    })
  },
}, async (t, { request }) => {
  t.equal((await request({ url: '/c' })).body, 'c p')
})

forBoth(t, 'custom methods and HEAD through the JS router get the route\'s class', {
  setup (app) {
    app.register(async (p) => {
      p.decorateRequest('scope', 'p')
      p.route({ method: 'PURGE', url: '/cache', handler: (req) => `purged ${req.scope}` })
      p.get('/h/:x', (req, res) => { res.header('x-scope', String(req.scope)); return 'ok' })
    })
  },
}, async (t, { request }) => {
  t.equal((await request({ method: 'PURGE', url: '/cache' })).body, 'purged p')
  const h = await request({ method: 'HEAD', url: '/h/1' })
  t.equal(h.headers['x-scope'], 'p')
})

t.test('same name: refused in the same context and under one that has it', async (t) => {
  const { App } = salvo()
  const app = new App()
  app.decorateRequest('x', 1)
  let inChild, dup
  app.register(async (p) => {
    inChild = (() => { try { p.decorateRequest('x', 2) } catch (e) { return e.code } })()
    p.decorateRequest('y', 1)
    dup = (() => { try { p.decorateRequest('y', 2) } catch (e) { return e.code } })()
  })
  await app.ready()
  t.equal(inChild, 'SALVO_ERR_DECORATOR_EXISTS', 'a child cannot redefine what its parent added')
  t.equal(dup, 'SALVO_ERR_DECORATOR_EXISTS', 'twice in the same plugin')
  throwsCode(t, () => app.decorateRequest('z', 1), 'SALVO_ERR_ALREADY_STARTED', 'after start')
})

t.test('apps stay separate: a plugin of one app does not decorate another', async (t) => {
  const { App } = salvo()
  const a = new App()
  const b = new App()
  a.register(async (p) => { p.decorateRequest('onlyA', 'A'); p.get('/', (req) => String(req.onlyA)) })
  b.get('/', (req) => String(req.onlyA))
  t.equal((await a.inject({ url: '/' })).body, 'A')
  t.equal((await b.inject({ url: '/' })).body, 'undefined')
})
