// Content-Length is the UTF-8 byte count, also when it has more digits than the
// string has characters (the writer guesses ASCII first and moves the body).
import t from 'tap'
import { connect, get } from './helpers/raw-client.mjs'
import { startApp } from './helpers/app.mjs'

const bodies = {
  '/ascii': 'abc',
  '/grow': 'ééééé', // 5 characters, 10 bytes: one more digit
  '/grow2': 'é'.repeat(50), // 50 characters, 100 bytes
  '/emoji': '😀'.repeat(3), // 6 UTF-16 units, 12 bytes
  '/json': { s: 'ü'.repeat(4) }
}

t.test('byte counts on the keep-alive fast path', async (t) => {
  const { port } = await startApp(t, (app) => {
    for (const [path, body] of Object.entries(bodies)) {
      // A fresh string each time, so the constant-answer cache is not what is tested.
      app.get(path, () => (typeof body === 'string' ? body.split('').join('') : { ...body }))
    }
  })
  const c = await connect(t, port)
  const paths = Object.keys(bodies)
  c.write(Buffer.concat(paths.map((p) => get(p))))
  const rs = await c.readResponses(paths.length)
  for (const [i, p] of paths.entries()) {
    const want = typeof bodies[p] === 'string' ? bodies[p] : JSON.stringify(bodies[p])
    t.equal(rs[i].body.toString('utf8'), want, `${p} body`)
    t.equal(Number(rs[i].headers['content-length']), Buffer.byteLength(want), `${p} Content-Length`)
  }
})

// The same byte counts with header lines of the reply's own (the cors plugin's case) and with
// a Connection line (HTTP/1.0 keep-alive, close): the head's tail is sized before the body is
// written, so a wrong count would leave a hole or overwrite the body's first bytes.
t.test('byte counts with extra header lines and Connection lines', async (t) => {
  const { port } = await startApp(t, (app) => {
    for (const [path, body] of Object.entries(bodies)) {
      app.get(path, (req, res) => {
        res.header('X-One', 'caf\u00e9')
        if (req.query.two !== undefined) res.header('X-Two', 'p'.repeat(300))
        return typeof body === 'string' ? body.split('').join('') : { ...body }
      })
    }
  })
  const paths = Object.keys(bodies)
  const cases = [
    { q: '', version: '1.1', headers: {} },
    { q: '?two=1', version: '1.1', headers: {} },
    { q: '', version: '1.0', headers: { Connection: 'keep-alive' } },
    { q: '?two=1', version: '1.0', headers: { Connection: 'keep-alive' } },
  ]
  const c = await connect(t, port)
  const reqs = []
  for (const k of cases) for (const p of paths) reqs.push({ p, k })
  // The same request twice in a row too: the second copy of the lines comes from the cache.
  c.write(Buffer.concat([...reqs, ...reqs].map(({ p, k }) => get(p + k.q, { version: k.version, headers: k.headers }))))
  const rs = await c.readResponses(2 * reqs.length)
  for (const [i, r] of rs.entries()) {
    const { p, k } = reqs[i % reqs.length]
    const what = `${p}${k.q} HTTP/${k.version}`
    const want = typeof bodies[p] === 'string' ? bodies[p] : JSON.stringify(bodies[p])
    t.equal(r.body.toString('utf8'), want, `${what}: body`)
    t.equal(Number(r.headers['content-length']), Buffer.byteLength(want), `${what}: Content-Length`)
    t.equal(r.headers['x-one'], 'caf\u00e9', `${what}: X-One`)
    t.equal(r.headers['x-two'], k.q === '' ? undefined : 'p'.repeat(300), `${what}: X-Two`)
    if (k.version === '1.0') t.equal(r.headers.connection, 'keep-alive', `${what}: Connection`)
  }
})
