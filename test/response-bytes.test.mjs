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
