// Requests still pending when their batch's microtask checkpoint ends copy their bytes out of
// the slab through one string made for the whole batch (Dispatcher.detachPending,
// Request._detachShared). Each must read exactly its own bytes afterwards (line, headers,
// parameters, body), whatever its neighbours were (answered in the checkpoint, in the sync
// part, of other sizes), and nothing of another request may be reachable from it.
import t from 'tap'
import { connect, get, post } from './helpers/raw-client.mjs'
import { startApp } from './helpers/app.mjs'

const later = (fn) => new Promise((resolve) => setImmediate(() => resolve(fn())))

const describe = (req) => ({
  method: req.method,
  url: req.url,
  path: req.path,
  id: req.params.id ?? null,
  q: req.query.q ?? null,
  x: req.headers['x-tag'] ?? null,
  all: Object.keys(req.headers).sort(),
  body: req.body === undefined || req.body === null ? null : Buffer.from(req.body).toString('latin1')
})

t.test('pending requests of one batch each keep only their own bytes', async (t) => {
  const { port } = await startApp(t, (app) => {
    app.get('/slow/:id', (req) => later(() => describe(req)))
    app.post('/slow/:id', (req) => later(() => describe(req)))
    app.get('/fast/:id', async (req) => describe(req))
    app.get('/sync/:id', (req) => describe(req))
  })
  const c = await connect(t, port)
  const reqs = []
  const want = []
  for (let i = 0; i < 30; i++) {
    const kind = ['slow', 'fast', 'slow', 'sync', 'slow'][i % 5]
    const tag = 'tag-' + i + '-' + 'y'.repeat(i * 7)
    const headers = { 'x-tag': tag }
    if (i % 3 === 0) headers['x-extra-' + i] = 'e'.repeat(i)
    const target = `/${kind}/${i}?q=${i * 11}`
    if (kind === 'slow' && i % 2 === 1) {
      const body = 'b'.repeat(i * 13) + i
      reqs.push(post(target, body, { headers: { ...headers, 'content-type': 'application/octet-stream' } }))
      want.push({ i, method: 'POST', body, headers })
    } else {
      reqs.push(get(target, { headers }))
      want.push({ i, method: 'GET', body: null, headers })
    }
  }
  c.write(Buffer.from(reqs.join('')))
  const rs = await c.readResponses(reqs.length)
  t.equal(rs.length, reqs.length)
  for (let k = 0; k < rs.length; k++) {
    const w = want[k]
    const got = JSON.parse(rs[k].body.toString())
    t.equal(got.method, w.method, `#${w.i} method`)
    t.equal(got.id, String(w.i), `#${w.i} its own parameter`)
    t.equal(got.q, String(w.i * 11), `#${w.i} its own query`)
    t.equal(got.x, w.headers['x-tag'], `#${w.i} its own header value`)
    const extra = Object.keys(w.headers).filter((h) => h.startsWith('x-extra'))
    t.same(got.all.filter((h) => h.startsWith('x-')), ['x-tag', ...extra].sort(), `#${w.i} its own header names only`)
    if (w.body !== null) t.equal(got.body, w.body, `#${w.i} its own body`)
  }
})

t.test('a kept request exposes no byte of its neighbours', async (t) => {
  const kept = []
  const { port } = await startApp(t, (app) => {
    app.get('/keep/:id', (req) => later(() => {
      kept.push(req)
      return 'ok'
    }))
  })
  const c = await connect(t, port)
  const secret = (i) => 'SECRET-' + i + '-' + 'z'.repeat(40)
  c.write(Buffer.from([0, 1, 2, 3].map((i) => get('/keep/' + i, { headers: { authorization: secret(i) } })).join('')))
  await c.readResponses(4)
  t.equal(kept.length, 4)
  for (let i = 0; i < 4; i++) {
    const req = kept[i]
    // Everything reachable from the request object (own enumerable fields, recursively) and its text.
    const seen = new Set()
    const texts = []
    const walk = (v, depth) => {
      if (depth > 4 || v === null || v === undefined) return
      if (typeof v === 'string') { texts.push(v); return }
      if (typeof v !== 'object' || seen.has(v)) return
      seen.add(v)
      if (ArrayBuffer.isView(v)) { texts.push(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1')); return }
      for (const k of Object.keys(v)) walk(v[k], depth + 1)
    }
    walk(req, 0)
    const all = texts.join('\n')
    t.ok(all.includes(secret(i)), `#${i} holds its own header`)
    for (let j = 0; j < 4; j++) if (j !== i) t.notOk(all.includes(secret(j)), `#${i} holds nothing of #${j}`)
    t.equal(req.headers.authorization, secret(i))
  }
})
