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

// ---- decorateReply: the same encapsulation for replies ----------------------------------

forBoth(t, 'decorateReply in a plugin: its routes and children only; fp() decorates the parent', {
  setup (app) {
    const { fp } = salvo()
    app.decorateReply('ok', function (v) { this.header('x-ok', '1'); return { ok: v } })
    app.register(fp(async (inst) => { inst.decorateReply('fpMark', 'fp') }))
    app.register(async (p) => {
      p.decorateReply('count', 0)
      p.decorateReply('tagged', function (v) { this.header('x-tag', 'p'); return v })
      p.get('/p', (req, res) => { res.count++; return res.tagged(res.ok(`${res.count} ${res.fpMark}`)) })
      p.get('/p/:id', (req, res) => res.tagged(res.ok(typeof res.tagged)))
      p.register(async (c) => { c.get('/c', (req, res) => ({ has: typeof res.tagged, count: res.count })) })
    })
    app.register(async (s) => {
      s.decorateReply('tagged', function (v) { this.header('x-tag', 's'); return v })
      s.get('/s', (req, res) => res.tagged({ count: res.count ?? 'none' }))
    })
    app.get('/root', (req, res) => ({ tagged: typeof res.tagged, fpMark: res.fpMark, ok: res.ok(1) }))
  },
}, async (t, { request }) => {
  let r = await request({ url: '/p' })
  t.same(json(r), { ok: '1 fp' })
  t.equal(r.headers['x-tag'], 'p')
  t.equal(r.headers['x-ok'], '1')
  r = await request({ url: '/p' })
  t.same(json(r), { ok: '1 fp' }, 'a primitive default starts fresh on each reply')
  r = await request({ url: '/p/3' })
  t.same(json(r), { ok: 'function' }, 'JS-router route of the plugin')
  t.same(json(await request({ url: '/c' })), { has: 'function', count: 0 }, 'a child sees its parent\'s reply decorators')
  r = await request({ url: '/s' })
  t.same(json(r), { count: 'none' }, 'a sibling does not see them')
  t.equal(r.headers['x-tag'], 's', 'and may use the same name')
  t.same(json(await request({ url: '/root' })), { tagged: 'undefined', fpMark: 'fp', ok: { ok: 1 } }, 'the parent does not; fp() and root ones it does')
})

t.test('decorateReply: wrong calls and hasRequestDecorator / hasReplyDecorator', async (t) => {
  const { App } = salvo()
  const app = new App()
  throwsCode(t, () => app.decorateReply('', 1), 'SALVO_ERR_INVALID_ARG', 'empty name')
  throwsCode(t, () => app.decorateReply('obj', { a: 1 }), 'SALVO_ERR_INVALID_ARG', 'object value')
  throwsCode(t, () => app.decorateReply('send', 1), 'SALVO_ERR_DECORATOR_EXISTS', 'a built-in method')
  throwsCode(t, () => app.decorateReply('_x', 1), 'SALVO_ERR_DECORATOR_EXISTS', 'a _ name')
  app.decorateReply('r1', 1)
  throwsCode(t, () => app.decorateReply('r1', 2), 'SALVO_ERR_DECORATOR_EXISTS', 'twice')
  app.decorateRequest('q1', 1)
  const seen = {}
  app.register(async (p) => {
    p.decorateRequest('inner', 1)
    seen.inner = [p.hasRequestDecorator('inner'), p.hasRequestDecorator('q1'), p.hasReplyDecorator('r1')]
  })
  app.register(async (s) => { seen.sibling = s.hasRequestDecorator('inner') })
  await app.ready()
  t.same(seen, { inner: [true, true, true], sibling: false })
  t.equal(app.hasRequestDecorator('inner'), false, 'the parent does not have a child\'s')
  t.equal(app.hasReplyDecorator('r1'), true)
  throwsCode(t, () => app.decorateReply('late', 1), 'SALVO_ERR_ALREADY_STARTED', 'after start')
})

t.test('a reply built-in cannot be decorated over', async (t) => {
  const { App } = salvo()
  const app = new App()
  for (const name of ['sent', 'status', 'header', 'statusCode']) {
    if (name === 'statusCode' && !('statusCode' in salvo().Reply.prototype)) continue
    throwsCode(t, () => app.decorateReply(name, 1), 'SALVO_ERR_DECORATOR_EXISTS', name)
  }
})
