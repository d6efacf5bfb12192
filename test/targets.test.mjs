// Request-target forms (RFC 9112 3.2): origin-form and absolute-form route alike.
import t from 'tap'
import { connect, get } from './helpers/raw-client.mjs'
import { startApp } from './helpers/app.mjs'

const setup = (app) => {
  app.get('/', () => 'root')
  app.get('/info/:id', (req) => ({ path: req.path, url: req.url, id: req.params.id, q: req.query }))
}

t.test('absolute-form targets are accepted and routed by their path (RFC 9112 3.2.2)', async (t) => {
  const { port } = await startApp(t, setup)
  const c = await connect(t, port)
  c.write(Buffer.concat([get('http://example.com/info/7?x=1'), get('HTTP://EXAMPLE.COM:8080'), get('https://a.b/?z=2')]))
  const [a, b, d] = await c.readResponses(3)
  t.same(JSON.parse(a.body), { path: '/info/7', url: 'http://example.com/info/7?x=1', id: '7', q: { x: '1' } })
  t.equal(b.body.toString(), 'root', 'an empty path is "/"')
  t.equal(d.body.toString(), 'root')
})

t.test('the same through inject', async (t) => {
  const { app } = await startApp(t, setup)
  const r = await app.inject({ url: 'http://h/info/%41?q=%20' })
  t.same(r.json(), { path: '/info/%41'.replace('%41', 'A'), url: 'http://h/info/%41?q=%20', id: 'A', q: { q: ' ' } })
})
