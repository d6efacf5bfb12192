// A real nginx (Debian's /usr/sbin/nginx) in front of salvo, with the config of
// test/fixtures/nginx.conf (the one docs/DEPLOYMENT.md shows): upstream keepalive,
// HTTP/1.1 to salvo, X-Forwarded-For / -Proto and Host forwarded. Checks bodies
// (plain and pipelined to nginx), req.ip with trustProxy: ['127.0.0.1'] against the
// client nginx saw, and that salvo's keepAliveTimeout and nginx's upstream keepalive
// never produce a 502: with the tested config, and with nginx keeping upstream
// connections longer than salvo (nginx's default), across the moment salvo closes.

import t from 'tap'
import net from 'node:net'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { salvo, T } from './helpers/api.mjs'
import { RawClient, delay } from './helpers/raw-client.mjs'

const NGINX = '/usr/sbin/nginx'
const FIXTURE = fileURLToPath(new URL('./fixtures/nginx.conf', import.meta.url))
const DEPLOYMENT_MD = fileURLToPath(new URL('../docs/DEPLOYMENT.md', import.meta.url))
const KEEP_ALIVE_MS = 1000 // salvo's keepAliveTimeout here: short, so the test crosses it

async function freePort () {
  const s = net.createServer()
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve))
  const { port } = s.address()
  await new Promise((resolve) => s.close(resolve))
  return port
}

/** Starts nginx with the fixture's text (edited by `edit`); resolves once it accepts. */
async function startNginx (t, upstream, edit = (s) => s) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'salvo-nginx-'))
  const listen = await freePort()
  const conf = edit(fs.readFileSync(FIXTURE, 'utf8'))
    .replaceAll('__DIR__', dir).replaceAll('__LISTEN__', String(listen)).replaceAll('__UPSTREAM__', String(upstream))
  const confPath = path.join(dir, 'nginx.conf')
  fs.writeFileSync(confPath, conf)
  // -e: the error log before the config is read (else nginx tries /var/log/nginx as a non-root user)
  const proc = spawn(NGINX, ['-p', dir, '-c', confPath, '-e', path.join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  proc.stderr.on('data', (d) => { stderr += d })
  let exited = null
  proc.on('exit', (code, signal) => { exited = { code, signal } })
  const stop = async () => {
    if (exited === null) {
      proc.kill('SIGTERM')
      const start = Date.now()
      while (exited === null && Date.now() - start < 3000) await delay(20)
      if (exited === null) proc.kill('SIGKILL')
    }
    fs.rmSync(dir, { recursive: true, force: true })
  }
  t.teardown(stop)
  const start = Date.now()
  for (;;) {
    if (exited !== null) throw new Error(`nginx exited (${JSON.stringify(exited)}): ${stderr}${readLog(dir, 'error.log')}`)
    const ok = await new Promise((resolve) => {
      const s = net.connect(listen, '127.0.0.1', () => { s.destroy(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    if (ok) break
    if (Date.now() - start > 5000) throw new Error(`nginx did not accept within 5 s: ${readLog(dir, 'error.log')}`)
    await delay(20)
  }
  return { port: listen, dir, log: (name = 'error.log') => readLog(dir, name) }
}

function readLog (dir, name) {
  try { return fs.readFileSync(path.join(dir, name), 'utf8') } catch { return '' }
}

/** A client connection to nginx from `localAddress` (default 127.0.0.1). */
function connectFrom (port, localAddress) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress })
    socket.once('error', reject)
    socket.once('connect', () => { socket.removeAllListeners('error'); socket.setNoDelay(true); resolve(new RawClient(socket)) })
  })
}

const get = (url, headers = {}) => {
  let s = `GET ${url} HTTP/1.1\r\nHost: app.example:8080\r\n`
  for (const [k, v] of Object.entries(headers)) s += `${k}: ${v}\r\n`
  return s + '\r\n'
}
const post = (url, body) => `POST ${url} HTTP/1.1\r\nHost: app.example:8080\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`

async function startSalvo (t) {
  const { App } = salvo()
  const app = new App({ trustProxy: ['127.0.0.1'], keepAliveTimeout: KEEP_ALIVE_MS })
  app.get('/', () => 'Hello world!')
  app.get('/n/:i', (req) => `n=${req.params.i}`)
  app.post('/echo', (req) => req.body)
  app.get('/who', (req) => ({ ip: req.ip, ips: req.ips, protocol: req.protocol, host: req.host, xff: req.header('x-forwarded-for') ?? null }))
  const server = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => server.close({ timeout: 500 }))
  return server
}

const haveNginx = fs.existsSync(NGINX)
const skip = haveNginx ? false : `nginx is not installed (${NGINX}; apt-get install nginx-light)`

t.test('nginx in front of salvo', { skip, timeout: 30_000 }, async (t) => {
  const server = await startSalvo(t)
  const nginx = await startNginx(t, server.port)

  t.test('bodies: plain requests', async (t) => {
    const c = await connectFrom(nginx.port)
    t.teardown(() => c.destroy())
    await c.write(get('/'))
    let [r] = await c.readResponses(1, { timeout: T })
    t.equal(r.status, 200)
    t.equal(r.body.toString(), 'Hello world!')
    const big = 'x'.repeat(200_000) + 'end'
    await c.write(post('/echo', big))
    ;[r] = await c.readResponses(1, { timeout: T })
    t.equal(r.status, 200)
    t.equal(r.body.toString(), big, 'a 200 KB body through nginx and back')
  })

  t.test('bodies: pipelined requests in one write, answers in order', async (t) => {
    const c = await connectFrom(nginx.port)
    t.teardown(() => c.destroy())
    const n = 16
    let batch = ''
    for (let i = 0; i < n; i++) batch += i % 4 === 3 ? post('/echo', `body-${i}`) : get(`/n/${i}`)
    await c.write(batch)
    const rs = await c.readResponses(n, { timeout: T })
    t.same(rs.map((r) => r.status), new Array(n).fill(200))
    t.same(rs.map((r) => r.body.toString()), Array.from({ length: n }, (_, i) => (i % 4 === 3 ? `body-${i}` : `n=${i}`)))
  })

  t.test('req.ip is the client nginx saw, not what the client claimed', async (t) => {
    // The client connects from 127.0.0.2 (all of 127/8 is loopback): nginx appends it to the
    // forged X-Forwarded-For; salvo trusts only 127.0.0.1 (nginx), so 127.0.0.2 is the client.
    const c = await connectFrom(nginx.port, '127.0.0.2')
    t.teardown(() => c.destroy())
    await c.write(get('/who', { 'X-Forwarded-For': '6.6.6.6' }))
    const [r] = await c.readResponses(1, { timeout: T })
    t.equal(r.status, 200)
    t.same(JSON.parse(r.body.toString()), {
      ip: '127.0.0.2', ips: ['127.0.0.1', '127.0.0.2'], protocol: 'http', host: 'app.example:8080', xff: '6.6.6.6, 127.0.0.2'
    })
    // nginx writes the access line after the answer has left: wait for it (bounded).
    const line = /^127\.0\.0\.2 - - .*"GET \/who HTTP\/1\.1" 200 /m
    let access = nginx.log('access.log')
    for (let i = 0; i < 40 && !line.test(access); i++) {
      await delay(50)
      access = nginx.log('access.log')
    }
    t.match(access, line, 'nginx logged the same client')
  })

  t.test('keepAliveTimeout vs nginx upstream keepalive: requests across salvo\'s idle close, no 502', async (t) => {
    const before = server.stats().accepted
    const c = await connectFrom(nginx.port)
    t.teardown(() => c.destroy())
    const statuses = []
    // pauses longer than nginx's keepalive_timeout (800 ms) and salvo's (1000 ms, swept every 250 ms)
    for (const pause of [0, 1500, 1500, 900, 1100, 1250]) {
      await delay(pause)
      await c.write(get('/') + post('/echo', 'p'))
      const rs = await c.readResponses(2, { timeout: T })
      statuses.push(...rs.map((r) => r.status))
    }
    t.equal(statuses.filter((s) => s === 502).length, 0, 'no 502')
    t.same(statuses, new Array(12).fill(200))
    t.ok(server.stats().accepted - before >= 5, `upstream connections were closed idle and reopened (${server.stats().accepted - before} accepted)`)
    t.notMatch(nginx.log(), /upstream prematurely closed|502/, 'nginx logged no upstream failure')
  })

  t.test('the config in docs/DEPLOYMENT.md is this one', async (t) => {
    const doc = fs.readFileSync(DEPLOYMENT_MD, 'utf8')
    const conf = fs.readFileSync(FIXTURE, 'utf8')
    t.ok(doc.includes(conf.trimEnd()), 'docs/DEPLOYMENT.md holds test/fixtures/nginx.conf verbatim')
  })
})

t.test('nginx keeping upstream connections longer than salvo: a request that reaches salvo as it times out is served', { skip, timeout: 30_000 }, async (t) => {
  const server = await startSalvo(t)
  // nginx's default upstream keepalive_timeout (60 s): salvo closes idle upstream connections first
  const nginx = await startNginx(t, server.port, (s) => s.replace(/^ *keepalive_timeout .*\n/m, ''))
  const c = await connectFrom(nginx.port)
  t.teardown(() => c.destroy())
  await c.write(get('/'))
  t.equal((await c.readResponses(1, { timeout: T }))[0].status, 200)
  const accepted = server.stats().accepted
  // Still inside keepAliveTimeout, send a POST (nginx does not retry it elsewhere: not
  // idempotent) on the idle upstream connection, and keep salvo's loop busy until the
  // timeout has passed: when the loop runs again its sweep (a timer, which libuv runs
  // before it polls sockets) finds the connection idle past keepAliveTimeout while the
  // request waits unread in the socket. Closing it then would lose the request: 502.
  await delay(KEEP_ALIVE_MS / 2)
  await c.write(post('/echo', 'on time'))
  const until = Date.now() + KEEP_ALIVE_MS
  // wait for nginx to forward it, without running salvo's loop (a synchronous sleep)
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, until - Date.now()))
  const [r] = await c.readResponses(1, { timeout: T })
  t.equal(r.status, 200, `POST answered ${r.status} (502: salvo closed the connection holding it)`)
  t.equal(r.body.toString(), 'on time')
  t.equal(server.stats().accepted, accepted, 'served on the same upstream connection')
  t.notMatch(nginx.log(), /upstream prematurely closed/)
  // and the idle close still happens afterwards
  const start = Date.now()
  while (server.stats().connections > 0 && Date.now() - start < 3 * KEEP_ALIVE_MS) await delay(50)
  t.equal(server.stats().connections, 0, 'the idle upstream connection was closed by keepAliveTimeout after that')
})

