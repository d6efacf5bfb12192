// Issue 11 item 5: the cors plugin: origins as string, list, RegExp, function (sync, async),
// boolean; preflight answers (204, Max-Age, methods, headers); Vary: Origin; 404/405 paths.

import t from 'tap'
import { forBoth, salvo } from './helpers/api.mjs'

const pre = (url, origin, extra = {}) => ({
  method: 'OPTIONS', url, headers: { origin, 'access-control-request-method': 'PUT', ...extra }
})

forBoth(t, 'cors: a list of origins, preflight, 404 and 405 paths', {
  setup (app) {
    const { cors } = salvo()
    cors(app, { origin: ['https://a.example', /\.b\.example$/], maxAge: 600, credentials: true, exposedHeaders: ['X-Total'] })
    app.get('/r', () => 'ok')
    app.post('/only-post', () => 'p')
  }
}, async (t, { request }) => {
  const r = await request({ url: '/r', headers: { origin: 'https://a.example' } })
  t.equal(r.body, 'ok')
  t.equal(r.headers['access-control-allow-origin'], 'https://a.example')
  t.equal(r.headers['access-control-allow-credentials'], 'true')
  t.equal(r.headers['access-control-expose-headers'], 'X-Total')
  t.equal(r.headers.vary, 'Origin')
  const re = await request({ url: '/r', headers: { origin: 'https://x.b.example' } })
  t.equal(re.headers['access-control-allow-origin'], 'https://x.b.example', 'a RegExp in the list')
  const no = await request({ url: '/r', headers: { origin: 'https://evil.example' } })
  t.equal(no.statusCode, 200)
  t.notOk('access-control-allow-origin' in no.headers, 'an origin not listed gets no ACAO')
  t.equal(no.headers.vary, 'Origin')
  const p = await request(pre('/r', 'https://a.example', { 'access-control-request-headers': 'x-a, content-type' }))
  t.equal(p.statusCode, 204)
  t.equal(p.body, '')
  t.equal(p.headers['access-control-max-age'], '600')
  t.equal(p.headers['access-control-allow-methods'], 'GET, HEAD, PUT, PATCH, POST, DELETE')
  t.equal(p.headers['access-control-allow-headers'], 'x-a, content-type', 'requested headers reflected')
  const p404 = await request(pre('/nowhere', 'https://a.example'))
  t.equal(p404.statusCode, 204, 'a preflight for any path is answered')
  const nf = await request({ url: '/nowhere', headers: { origin: 'https://a.example' } })
  t.equal(nf.statusCode, 404)
  t.equal(nf.headers['access-control-allow-origin'], 'https://a.example', 'headers on not-found answers')
  const na = await request({ url: '/only-post', headers: { origin: 'https://a.example' } })
  t.equal(na.statusCode, 405)
  t.equal(na.headers['access-control-allow-origin'], 'https://a.example', 'headers on 405 answers')
  const plainOptions = await request({ method: 'OPTIONS', url: '/r', headers: { origin: 'https://a.example' } })
  t.equal(plainOptions.statusCode, 405, 'OPTIONS without Access-Control-Request-Method is not a preflight')
})

t.test('cors: default *, string, boolean, sync and async functions (inject)', async (t) => {
  const { App, cors } = salvo()
  const make = async (origin) => {
    const app = new App()
    cors(app, origin === undefined ? undefined : { origin })
    app.get('/r', () => 'ok')
    return (o) => app.inject({ url: '/r', headers: o === undefined ? {} : { origin: o } })
  }
  let q = await make(undefined)
  let r = await q('https://a.example')
  t.equal(r.headers['access-control-allow-origin'], '*')
  t.notOk('vary' in r.headers, 'no Vary for *')
  q = await make('https://fixed.example')
  r = await q('https://a.example')
  t.equal(r.headers['access-control-allow-origin'], 'https://fixed.example')
  q = await make(true)
  r = await q('https://any.example')
  t.equal(r.headers['access-control-allow-origin'], 'https://any.example', 'true reflects')
  q = await make(false)
  r = await q('https://any.example')
  t.notOk('access-control-allow-origin' in r.headers, 'false: none')
  q = await make((origin) => origin === 'https://ok.example')
  t.equal((await q('https://ok.example')).headers['access-control-allow-origin'], 'https://ok.example')
  t.notOk('access-control-allow-origin' in (await q('https://no.example')).headers)
  q = await make(async (origin) => { await new Promise((resolve) => setTimeout(resolve, 5)); return origin.endsWith('.ok') })
  t.equal((await q('https://x.ok')).headers['access-control-allow-origin'], 'https://x.ok', 'async function')
  t.notOk('access-control-allow-origin' in (await q('https://x.no')).headers)
})

t.test('cors: options are validated', async (t) => {
  const { App, cors } = salvo()
  const bad = [{ orgin: '*' }, { origin: 5 }, { origin: [1] }, { maxAge: -1 }, { credentials: 'yes' }, { methods: [1] }, { optionsSuccessStatus: 404 }]
  for (const o of bad) {
    t.throws(() => cors(new App(), o), { code: 'SALVO_ERR_INVALID_ARG' }, JSON.stringify(o))
  }
  t.equal(cors[Symbol.for('skip-override')], true, 'marked skip-override: applies app-wide')
})

// origin '*' (the default) knows its lines at start: they are recorded without reading Origin or
// checking the value per request. The answer must be what reply.header() would have made: the
// lines on every answer, readable by later hooks and the handler, replaceable and removable,
// preflights answered with their extra lines, and a value that is no valid header value
// refused per request as before (500: reply.header() throws).
forBoth(t, "cors: origin '*' with credentials and exposed headers: lines as reply.header() sets them", {
  setup (app) {
    const { cors } = salvo()
    cors(app, { credentials: true, exposedHeaders: ['X-Total', 'X-Page'], maxAge: 5 })
    app.get('/seen', (req, res) => ({ acao: res.getHeader('access-control-allow-origin'), acac: res.getHeader('Access-Control-Allow-Credentials') }))
    app.get('/replaced', (req, res) => {
      res.header('access-control-allow-origin', 'https://mine.example')
      res.removeHeader('Access-Control-Expose-Headers')
      return 'r'
    })
  }
}, async (t, { request }) => {
  const r = await request({ url: '/seen' })
  t.same(JSON.parse(r.body), { acao: '*', acac: 'true' }, 'the handler reads the lines the hook set')
  t.equal(r.headers['access-control-allow-origin'], '*')
  t.equal(r.headers['access-control-allow-credentials'], 'true')
  t.equal(r.headers['access-control-expose-headers'], 'X-Total, X-Page')
  t.notOk('vary' in r.headers, "no Vary for '*'")
  const rep = await request({ url: '/replaced' })
  t.equal(rep.headers['access-control-allow-origin'], 'https://mine.example', 'replaced, not doubled')
  t.notOk('access-control-expose-headers' in rep.headers, 'removed')
  const p = await request(pre('/seen', 'https://a.example'))
  t.equal(p.statusCode, 204)
  t.equal(p.headers['access-control-allow-origin'], '*')
  t.equal(p.headers['access-control-max-age'], '5')
  t.equal(p.headers['access-control-allow-methods'], 'GET, HEAD, PUT, PATCH, POST, DELETE')
  const nf = await request({ url: '/nowhere' })
  t.equal(nf.statusCode, 404)
  t.equal(nf.headers['access-control-allow-origin'], '*', 'the 404 too')
})

forBoth(t, 'cors: an origin string that is no valid header value fails each request as before', {
  setup (app) {
    const { cors } = salvo()
    cors(app, { origin: 'https://a.example\r\nX-Injected: 1' })
    app.get('/r', () => 'ok')
  }
}, async (t, { request }) => {
  const r = await request({ url: '/r' })
  t.equal(r.statusCode, 500)
  t.notOk('x-injected' in r.headers, 'nothing injected')
})
