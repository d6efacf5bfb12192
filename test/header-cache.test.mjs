// Reply.header keeps names and values it has checked (src/reply.ts, headerKey /
// knownValue): a checked name or value must never let a bad one through, also
// once the tables overflow and start over.
import t from 'tap'
import { loadSalvo } from './helpers/app.mjs'

t.test('bad names and values still throw after good ones were cached, and after the tables overflow', async (t) => {
  const { App } = loadSalvo()
  const app = new App()
  const seen = []
  app.get('/h', (req, res) => {
    const n = Number(req.query.n)
    for (let i = 0; i < n; i++) res.header(`X-Name-${i}`, `value-${i}`)
    res.header('X-Ok', 'fine')
    for (const [name, value] of [['Content-Length', '1'], ['connection', 'close'], ['X Bad', 'v'], ['X-Ok', 'a\r\nInjected: 1'], ['X-Ok', 'fine\n'], ['X-Ok', '\u010d\u010a']]) {
      try {
        res.header(name, value)
        seen.push(`accepted ${name}`)
      } catch (err) {
        seen.push(err.code)
      }
    }
    return 'ok'
  })
  for (const n of [0, 1, 700, 1200]) {
    seen.length = 0
    const r = await app.inject({ url: `/h?n=${n}` })
    t.equal(r.statusCode, 200)
    t.same(seen, Array(6).fill('SALVO_ERR_INVALID_HEADER'), `n=${n}: every bad call refused`)
    t.equal(r.headers['x-ok'], 'fine')
    if (n > 0) t.equal(r.headers[`x-name-${n - 1}`], `value-${n - 1}`)
  }
})
