// The head of an answer with header lines of its own (src/response.ts writeHead), a few or
// many: each line as set, obs-text (U+0080-U+00FF) as one latin1 byte, then exactly one
// blank line; keep-alive and close answers alike, pipelined.
import t from 'tap'
import { listenApp } from './helpers/api.mjs'
import { connect, get } from './helpers/raw-client.mjs'

t.test('extra header lines reach the wire as set, short or long, keep-alive or close', async (t) => {
  const { port } = await listenApp(t, {
    setup (app) {
      app.get('/h/:n', (req, res) => {
        const n = Number(req.params.n)
        res.header('X-Latin', 'caf\u00e9 \u00ff')
        for (let i = 0; i < n; i++) res.header(`X-Pad-${i}`, 'p'.repeat(20))
        return 'body'
      })
    },
  })
  const c = await connect(t, port)
  const ns = [0, 1, 8, 12, 40] // from a few bytes to well past the inline limit (256)
  await c.write(Buffer.concat([...ns.map((n) => get(`/h/${n}`)), get('/h/3', { headers: { Connection: 'close' } })]))
  // Strict framing: a missing or doubled blank line makes the next answer unparseable.
  const { responses, rest } = await c.readUntilClose()
  t.equal(responses.length, ns.length + 1, 'one answer per request')
  t.equal(rest.length, 0, 'nothing after the last answer')
  for (const [i, n] of [...ns, 3].entries()) {
    const r = responses[i]
    t.ok(r.head.endsWith('\r\n\r\n'), `n=${n}: the head ends in one blank line`)
    const lines = r.head.slice(0, -4).split('\r\n')
    t.equal(lines[0], 'HTTP/1.1 200 OK')
    t.ok(lines.includes('X-Latin: caf\u00e9 \u00ff'), `n=${n}: obs-text as latin1 bytes`)
    t.same(lines.filter((l) => l.startsWith('X-Pad-')), Array.from({ length: n }, (_, k) => `X-Pad-${k}: ${'p'.repeat(20)}`), `n=${n}: every line, in order`)
    t.ok(lines.includes('Content-Length: 4'), `n=${n}: Content-Length`)
    t.equal(r.text, 'body', `n=${n}: the body`)
  }
  t.ok(responses[ns.length].head.includes('\r\nConnection: close\r\n'), 'the close answer says so')
})
