// examples/microservice.ts as a user runs it: `node dist/examples/microservice.js` with PORT=0,
// over real sockets on 127.0.0.1. Each piece of the day-one kit it shows is hit once:
// the /api/todos plugin under its prefix (CRUD), schema validation of body, params and
// querystring (400 SALVO_ERR_VALIDATION through the app's error handler), cors (preflight and
// the allowed origin), compress (gzip of the static page), serveStatic (index.html, ETag/304),
// pino request logging on stdout, the route timeout (503), and SIGTERM exiting 0.
import t from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import { gunzipSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const ORIGIN = 'http://localhost:3000'

/** A GET with node:http: the raw (still compressed) body and headers. */
function rawGet (url, headers) {
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }))
    }).on('error', reject)
  })
}

t.test('examples/microservice.ts: the day-one kit', async (t) => {
  const child = spawn(process.execPath, ['dist/examples/microservice.js'], {
    cwd: ROOT, env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'inherit']
  })
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let out = ''
  child.stdout.on('data', (d) => { out += d })
  const base = await new Promise((resolve, reject) => {
    const look = () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(out)
      if (m) resolve(m[1])
    }
    child.stdout.on('data', look)
    child.once('exit', () => reject(new Error(`exited early: ${out}`)))
  })
  const json = { 'content-type': 'application/json', origin: ORIGIN }
  const call = async (method, path, body) => {
    const r = await fetch(base + path, { method, headers: json, body: body === undefined ? undefined : JSON.stringify(body) })
    const text = await r.text()
    return { status: r.status, headers: r.headers, body: text === '' ? null : JSON.parse(text) }
  }

  // The todos plugin under /api/todos; validation coerces, applies defaults, drops unknown fields.
  let r = await call('POST', '/api/todos', { title: 'milk', extra: 1 })
  t.equal(r.status, 201)
  t.same(r.body, { id: 1, title: 'milk', done: false }, 'default applied, unknown field removed')
  t.equal(r.headers.get('location'), '/api/todos/1')
  t.equal(r.headers.get('access-control-allow-origin'), ORIGIN, 'cors on an API answer')
  await call('POST', '/api/todos', { title: 'bread', done: true })
  r = await call('GET', '/api/todos?done=false')
  t.same(r.body, [{ id: 1, title: 'milk', done: false }], 'querystring coerced: done=false is a boolean')
  r = await call('GET', '/api/todos?limit=1')
  t.equal(r.body.length, 1, 'limit coerced to a number')
  r = await call('PATCH', '/api/todos/2', { done: false })
  t.same(r.body, { id: 2, title: 'bread', done: false })
  r = await call('GET', '/api/todos/2')
  t.same(r.body, { id: 2, title: 'bread', done: false })
  r = await call('DELETE', '/api/todos/2')
  t.equal(r.status, 204)

  // Validation failures (body, params, querystring) and a handler's 404 go through the error handler.
  r = await call('POST', '/api/todos', { title: '' })
  t.equal(r.status, 400)
  t.equal(r.body.code, 'SALVO_ERR_VALIDATION')
  t.equal(r.body.validation[0].instancePath, '/title')
  t.match(r.body.requestId, /\S/, 'the error handler adds the request id')
  r = await call('GET', '/api/todos/abc')
  t.equal(r.status, 400)
  t.match(r.body.message, /^params\/id/)
  r = await call('GET', '/api/todos?limit=500')
  t.equal(r.status, 400)
  t.match(r.body.message, /^querystring\/limit/)
  r = await call('PATCH', '/api/todos/1', {})
  t.equal(r.status, 400, 'an empty patch is refused (minProperties)')
  r = await call('GET', '/api/todos/2')
  t.equal(r.status, 404)
  t.same([r.body.code, r.body.message], ['TODO_NOT_FOUND', 'no todo with id 2'])

  // CORS preflight.
  const pre = await fetch(base + '/api/todos', {
    method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' }
  })
  t.equal(pre.status, 204)
  t.equal(pre.headers.get('access-control-allow-origin'), ORIGIN)
  t.match(pre.headers.get('access-control-allow-methods'), /POST/)

  // serveStatic + compress: the page is above the 1 KiB threshold.
  const page = readFileSync(new URL('../examples/public/index.html', import.meta.url))
  const gz = await rawGet(base + '/', { 'accept-encoding': 'gzip' })
  t.equal(gz.status, 200)
  t.equal(gz.headers['content-encoding'], 'gzip')
  t.match(gz.headers['content-type'], /^text\/html/)
  t.ok(gz.body.length < page.length, `compressed (${gz.body.length} < ${page.length} bytes)`)
  t.same(gunzipSync(gz.body), page, 'the index file, gunzipped, is examples/public/index.html')
  const plain = await rawGet(base + '/index.html', {})
  t.equal(plain.headers['content-encoding'], undefined, 'no Accept-Encoding: not compressed')
  t.same(plain.body, page)
  const again = await rawGet(base + '/index.html', { 'if-none-match': plain.headers.etag })
  t.equal(again.status, 304, 'ETag revalidation')

  // The route timeout: 503 after 200 ms, well before the 5 s the handler would take.
  const t0 = Date.now()
  r = await call('GET', '/api/todos/export')
  t.equal(r.status, 503)
  t.equal(r.body.code, 'SALVO_ERR_HANDLER_TIMEOUT')
  t.ok(Date.now() - t0 < 2000, `answered in ${Date.now() - t0} ms`)

  r = await call('GET', '/health')
  t.same(r.body, { status: 'ok' })

  // pino on stdout: one "request completed" line per request, with its id and status.
  await new Promise((resolve) => setTimeout(resolve, 100))
  const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
  const done = lines.filter((l) => l.msg === 'request completed')
  t.ok(done.length >= 15, `request lines logged (${done.length})`)
  t.ok(done.some((l) => l.res?.statusCode === 400 && typeof l.reqId === 'string'), 'a 400 with its request id')
  t.ok(done.some((l) => l.res?.statusCode === 503), 'the timed-out request')

  child.kill('SIGTERM')
  t.same(await exited, { code: 0, signal: null }, 'SIGTERM exits 0')
})
