// Issue 11 item 5: the serveStatic plugin over real sockets and through inject():
// content types, HEAD lengths, ETag/Last-Modified 304s, Range 206/416, index files and the
// trailing-slash redirect, dotfiles, traversal attempts sent raw (no client normalization),
// a 20 MiB file streamed with its hash checked and memory bounded, and compress alongside.

import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import net from 'node:net'
import crypto from 'node:crypto'
import zlib from 'node:zlib'
import { forBoth, salvo, listenApp, throwsCode, delay } from './helpers/api.mjs'
import { RawClient } from './helpers/raw-client.mjs'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'salvo-static-'))
const root = path.join(dir, 'pub')
fs.mkdirSync(path.join(root, 'sub'), { recursive: true })
fs.mkdirSync(path.join(root, 'noindex'))
fs.writeFileSync(path.join(root, 'index.html'), '<h1>home</h1>')
fs.writeFileSync(path.join(root, 'a.txt'), 'hello world\n')
fs.writeFileSync(path.join(root, 'app.js'), 'console.log(1)')
fs.writeFileSync(path.join(root, 'pic.png'), Buffer.alloc(10, 1))
fs.writeFileSync(path.join(root, 'blob.unknownext'), 'x')
fs.writeFileSync(path.join(root, '.env'), 'SECRET=1')
fs.writeFileSync(path.join(root, 'sub', 'index.html'), 'sub index')
fs.writeFileSync(path.join(root, '%2e%2e'), 'a file literally named %2e%2e')
fs.writeFileSync(path.join(dir, 'outside.txt'), 'outside the root')
fs.symlinkSync(path.join(dir, 'outside.txt'), path.join(root, 'escape.txt'))
fs.symlinkSync(path.join(root, 'a.txt'), path.join(root, 'inside-link.txt'))
const mid = crypto.randomBytes(200 * 1024) // above the whole-file limit: streamed
fs.writeFileSync(path.join(root, 'mid.bin'), mid)
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))

const setup = (opts = {}) => (app) => { salvo().serveStatic(app, { root, prefix: '/s', ...opts }) }

forBoth(t, 'serveStatic: types, HEAD, index, redirect, dotfiles', { setup: setup({ redirect: true }) }, async (t, { request }) => {
  const a = await request({ url: '/s/a.txt' })
  t.equal(a.statusCode, 200)
  t.equal(a.body, 'hello world\n')
  t.equal(a.headers['content-type'], 'text/plain; charset=utf-8')
  t.equal(a.headers['content-length'], '12')
  t.equal(a.headers['accept-ranges'], 'bytes')
  t.equal(a.headers['cache-control'], 'public, max-age=0')
  t.match(a.headers.etag, /^W\/"c-[0-9a-f]+"$/, 'weak ETag from size and mtime')
  t.equal(a.headers['last-modified'], fs.statSync(path.join(root, 'a.txt')).mtime.toUTCString())
  t.equal((await request({ url: '/s/app.js' })).headers['content-type'], 'text/javascript; charset=utf-8')
  t.equal((await request({ url: '/s/pic.png' })).headers['content-type'], 'image/png')
  t.equal((await request({ url: '/s/blob.unknownext' })).headers['content-type'], 'application/octet-stream')

  const h = await request({ method: 'HEAD', url: '/s/a.txt' })
  t.equal(h.statusCode, 200)
  t.equal(h.headers['content-length'], '12', 'HEAD: the length a GET would have')
  t.equal(h.body, '', 'HEAD: no body')
  if (h.extraBytes !== undefined) t.equal(h.extraBytes, 0, 'nothing after the head on the wire')
  const hm = await request({ method: 'HEAD', url: '/s/mid.bin' })
  t.equal(hm.headers['content-length'], String(mid.length), 'HEAD of a streamed file: Content-Length, not chunked')
  t.notOk('transfer-encoding' in hm.headers)

  const m = await request({ url: '/s/mid.bin' })
  t.equal(m.headers['content-length'], String(mid.length), 'a streamed file has its Content-Length')
  t.ok(m.rawBody.equals(mid), 'streamed bytes equal the file')

  const home = await request({ url: '/s/' })
  t.equal(home.body, '<h1>home</h1>', 'index.html for the prefix with a slash')
  t.equal(home.headers['content-type'], 'text/html; charset=utf-8')
  const bare = await request({ url: '/s?x=1' })
  t.equal(bare.statusCode, 301, 'the bare prefix redirects')
  t.equal(bare.headers.location, '/s/?x=1', 'with the query kept')
  const sub = await request({ url: '/s/sub' })
  t.equal(sub.statusCode, 301, 'redirect: true: a directory without its slash')
  t.equal(sub.headers.location, '/s/sub/')
  t.equal((await request({ url: '/s/sub/' })).body, 'sub index')
  t.equal((await request({ url: '/s/noindex/' })).statusCode, 404, 'no index file: 404, no listing')
  t.equal((await request({ url: '/s/a.txt/' })).statusCode, 404, 'a file with a trailing slash')
  t.equal((await request({ url: '/s/missing.txt' })).json().code, 'SALVO_ERR_NOT_FOUND')
  t.equal((await request({ url: '/s/.env' })).statusCode, 404, 'dotfiles ignored by default')
  t.equal((await request({ url: '/s/escape.txt' })).statusCode, 404, 'a symlink leaving the root is refused')
  t.equal((await request({ url: '/s/inside-link.txt' })).body, 'hello world\n', 'a symlink inside the root is served')
})

forBoth(t, 'serveStatic: 304, 412, 206, 416', { setup: setup() }, async (t, { request }) => {
  const first = await request({ url: '/s/a.txt' })
  const etag = first.headers.etag
  const lm = first.headers['last-modified']
  const n1 = await request({ url: '/s/a.txt', headers: { 'if-none-match': etag } })
  t.equal(n1.statusCode, 304)
  t.equal(n1.body, '')
  t.equal(n1.headers.etag, etag, 'the 304 repeats the ETag')
  t.equal((await request({ url: '/s/a.txt', headers: { 'if-none-match': `"nope", ${etag.slice(2)}` } })).statusCode, 304, 'list form, weak comparison')
  t.equal((await request({ url: '/s/a.txt', headers: { 'if-none-match': '*' } })).statusCode, 304, '* form')
  t.equal((await request({ url: '/s/a.txt', headers: { 'if-none-match': '"other"' } })).statusCode, 200)
  t.equal((await request({ url: '/s/a.txt', headers: { 'if-modified-since': lm } })).statusCode, 304, 'If-Modified-Since')
  t.equal((await request({ url: '/s/a.txt', headers: { 'if-modified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' } })).statusCode, 200)
  const prec = await request({ url: '/s/a.txt', headers: { 'if-none-match': '"other"', 'if-modified-since': lm } })
  t.equal(prec.statusCode, 200, 'If-None-Match takes precedence over If-Modified-Since')
  t.equal((await request({ url: '/s/a.txt', headers: { 'if-match': etag } })).statusCode, 412, 'If-Match: a weak tag never matches strongly')
  t.equal((await request({ url: '/s/a.txt', headers: { 'if-match': '*' } })).statusCode, 200)

  const r1 = await request({ url: '/s/a.txt', headers: { range: 'bytes=0-4' } })
  t.equal(r1.statusCode, 206)
  t.equal(r1.body, 'hello')
  t.equal(r1.headers['content-range'], 'bytes 0-4/12')
  t.equal(r1.headers['content-length'], '5')
  t.equal((await request({ url: '/s/a.txt', headers: { range: 'bytes=6-' } })).body, 'world\n', 'a- form')
  t.equal((await request({ url: '/s/a.txt', headers: { range: 'bytes=-3' } })).body, 'ld\n', '-n form')
  t.equal((await request({ url: '/s/a.txt', headers: { range: 'bytes=6-999' } })).headers['content-range'], 'bytes 6-11/12', 'end clipped')
  const big = await request({ url: '/s/mid.bin', headers: { range: 'bytes=100000-199999' } })
  t.equal(big.statusCode, 206)
  t.ok(big.rawBody.equals(mid.subarray(100000, 200000)), 'a streamed range has the right bytes')
  const u = await request({ url: '/s/a.txt', headers: { range: 'bytes=12-' } })
  t.equal(u.statusCode, 416)
  t.equal(u.headers['content-range'], 'bytes */12')
  t.equal(u.json().code, 'SALVO_ERR_RANGE_NOT_SATISFIABLE')
  t.equal((await request({ url: '/s/a.txt', headers: { range: 'bytes=-0' } })).statusCode, 416)
  const multi = await request({ url: '/s/a.txt', headers: { range: 'bytes=0-1, 4-5' } })
  t.equal(multi.statusCode, 200, 'several ranges: the whole file')
  t.equal(multi.body, 'hello world\n')
  t.equal((await request({ url: '/s/a.txt', headers: { range: 'items=0-1' } })).statusCode, 200, 'another unit is ignored')
  t.equal((await request({ url: '/s/a.txt', headers: { range: 'bytes=5-2' } })).statusCode, 200, 'an invalid range is ignored')
  t.equal((await request({ url: '/s/a.txt', headers: { range: 'bytes=0-4', 'if-range': lm } })).statusCode, 206, 'If-Range date equal to Last-Modified')
  t.equal((await request({ url: '/s/a.txt', headers: { range: 'bytes=0-4', 'if-range': 'Thu, 01 Jan 1970 00:00:00 GMT' } })).statusCode, 200, 'If-Range older date: whole')
  t.equal((await request({ url: '/s/a.txt', headers: { range: 'bytes=0-4', 'if-range': etag } })).statusCode, 200, 'If-Range with a weak tag: whole')
  const hr = await request({ method: 'HEAD', url: '/s/a.txt', headers: { range: 'bytes=0-4' } })
  t.equal(hr.statusCode, 200, 'Range is for GET only')
})

forBoth(t, 'serveStatic: dotfiles deny/allow, options, register with a prefix', {
  setup (app) {
    const { serveStatic } = salvo()
    serveStatic(app, { root, prefix: '/deny', dotfiles: 'deny', maxAge: 3600_000, immutable: true })
    serveStatic(app, { root, prefix: '/allow', dotfiles: 'allow', etag: false, lastModified: false, index: false })
    app.register(serveStatic, { root, prefix: '/reg' })
  }
}, async (t, { request }) => {
  const d = await request({ url: '/deny/.env' })
  t.equal(d.statusCode, 403)
  t.equal(d.json().code, 'SALVO_ERR_FORBIDDEN')
  t.equal((await request({ url: '/deny/a.txt' })).headers['cache-control'], 'public, max-age=3600, immutable')
  const a = await request({ url: '/allow/.env' })
  t.equal(a.body, 'SECRET=1', 'allow serves dotfiles')
  t.notOk('etag' in a.headers, 'etag: false')
  t.notOk('last-modified' in a.headers, 'lastModified: false')
  t.equal((await request({ url: '/allow/' })).statusCode, 404, 'index: false')
  t.equal((await request({ url: '/reg/a.txt' })).body, 'hello world\n', 'app.register with a prefix')
  t.equal((await request({ url: '/reg/sub' })).statusCode, 404, 'redirect: false (default): a directory without slash is 404')
  t.equal((await request({ url: '/reg/%252e%252e' })).body, 'a file literally named %2e%2e', 'decoded once only')
})

t.test('serveStatic: traversal attempts sent raw over a socket', async (t) => {
  const { port } = await listenApp(t, { setup: setup() })
  const cases = [
    ['/s/../outside.txt', 400],
    ['/s/%2e%2e/outside.txt', 400],
    ['/s/%2E%2E/outside.txt', 400],
    ['/s/%2e./outside.txt', 400],
    ['/s/.%2e/outside.txt', 400],
    ['/s/sub/..%2f..%2foutside.txt', 400],
    ['/s/..%5coutside.txt', 400],
    ['/s/a%00.txt', 400],
    ['/s/%zz', 400],
    ['/s/%c3%28', 400], // invalid UTF-8
    ['/s/%252e%252e/outside.txt', 404],
    ['/s/./a.txt', 400],
    ['/s//etc/passwd', 404],
    ['/s/escape.txt', 404]
  ]
  for (const [target, status] of cases) {
    const c = await RawClient.connect(port)
    try {
      await c.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`)
      const [r] = await c.readResponses(1)
      t.equal(r.status, status, `${target} -> ${status}`)
      t.notMatch(Buffer.from(r.body).toString(), /outside the root/, `${target}: nothing from outside`)
    } finally {
      c.destroy()
    }
  }
})

t.test('serveStatic: streamed files keep the connection (Content-Length framing) and work on HTTP/1.0', async (t) => {
  const { port, request } = await listenApp(t, { setup: setup() })
  const c = await RawClient.connect(port)
  t.teardown(() => c.destroy())
  await c.write('GET /s/mid.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /s/mid.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=-10\r\n\r\nGET /s/a.txt HTTP/1.1\r\nHost: x\r\n\r\n')
  const [r1, r2, r3] = await c.readResponses(3)
  t.ok(Buffer.from(r1.body).equals(mid), 'first: the whole file')
  t.equal(r1.headers['content-length'], String(mid.length))
  t.notOk('transfer-encoding' in r1.headers)
  t.equal(r2.status, 206)
  t.ok(Buffer.from(r2.body).equals(mid.subarray(mid.length - 10)), 'second: the last 10 bytes')
  t.equal(Buffer.from(r3.body).toString(), 'hello world\n', 'third, on the same connection')
  const old = await request({ url: '/s/mid.bin', version: '1.0' })
  t.equal(old.headers['content-length'], String(mid.length), 'HTTP/1.0: Content-Length')
  t.ok(old.rawBody.equals(mid))
})

t.test('serveStatic: bad options throw SALVO_ERR_INVALID_ARG', async (t) => {
  const { App, serveStatic } = salvo()
  const app = new App()
  throwsCode(t, () => serveStatic(app, { root, bogus: 1 }), 'SALVO_ERR_INVALID_ARG', 'unknown option')
  throwsCode(t, () => serveStatic(app, {}), 'SALVO_ERR_INVALID_ARG', 'no root')
  throwsCode(t, () => serveStatic(app, { root: path.join(dir, 'nope') }), 'SALVO_ERR_INVALID_ARG', 'missing root')
  throwsCode(t, () => serveStatic(app, { root: path.join(root, 'a.txt') }), 'SALVO_ERR_INVALID_ARG', 'root is a file')
  throwsCode(t, () => serveStatic(app, { root, dotfiles: 'yes' }), 'SALVO_ERR_INVALID_ARG', 'dotfiles')
  throwsCode(t, () => serveStatic(app, { root, maxAge: -1 }), 'SALVO_ERR_INVALID_ARG', 'maxAge')
  throwsCode(t, () => serveStatic(app, { root, index: ['../x'] }), 'SALVO_ERR_INVALID_ARG', 'index')
  throwsCode(t, () => serveStatic(app, { root, etag: 'yes' }), 'SALVO_ERR_INVALID_ARG', 'etag')
})

forBoth(t, 'serveStatic with compress: 200 compressed, 206 not', {
  setup (app) {
    const { serveStatic, compress } = salvo()
    compress(app)
    fs.writeFileSync(path.join(root, 'text.txt'), 'compress me please. '.repeat(10000)) // 200 KB: streamed
    serveStatic(app, { root, prefix: '/s' })
  }
}, async (t, { request }) => {
  const want = 'compress me please. '.repeat(10000)
  const z = await request({ url: '/s/text.txt', headers: { 'accept-encoding': 'gzip' } })
  t.equal(z.headers['content-encoding'], 'gzip')
  t.equal(zlib.gunzipSync(z.rawBody).toString(), want, 'the compressed stream decompresses to the file')
  t.equal(z.headers['transfer-encoding'], 'chunked', 'compressed: chunked, the identity Content-Length is dropped')
  t.notOk('content-length' in z.headers)
  const r = await request({ url: '/s/text.txt', headers: { 'accept-encoding': 'gzip', range: 'bytes=0-19' } })
  t.equal(r.statusCode, 206)
  t.notOk('content-encoding' in r.headers, 'a 206 is not compressed')
  t.equal(r.body, 'compress me please. ')
})

t.test('serveStatic: a 20 MiB file streamed, hash checked, memory bounded', async (t) => {
  const size = 20 * 1024 * 1024
  const file = path.join(root, 'big.bin')
  const hash = crypto.createHash('sha256')
  const fd = fs.openSync(file, 'w')
  const b = Buffer.alloc(1024 * 1024) // one buffer refilled: no 20 MiB of garbage to blur the memory figures
  for (let i = 0; i < 20; i++) {
    crypto.randomFillSync(b)
    hash.update(b)
    fs.writeSync(fd, b)
  }
  fs.closeSync(fd)
  const want = hash.digest('hex')
  const { port } = await listenApp(t, { setup: setup() })
  global.gc?.()
  const before = process.memoryUsage()
  const s = net.connect(port, '127.0.0.1')
  t.teardown(() => s.destroy())
  await new Promise((resolve) => s.once('connect', resolve))
  s.write('GET /s/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  // The client reads nothing for a while: the server must stop reading the file.
  s.pause()
  await delay(500)
  const during = process.memoryUsage()
  // Buffers (file chunks held for the socket) are counted in arrayBuffers; so are chunks the
  // kernel already took (loopback buffers hold a few MiB) until a GC frees them: measured
  // 3-5 MiB here with backpressure, 20 MiB (buffers) and 37 MiB (RSS) with highWaterMark 256 MiB.
  const buffers = during.arrayBuffers - before.arrayBuffers
  const rss = during.rss - before.rss
  t.ok(buffers < size / 2, `buffers grew ${(buffers / 1048576).toFixed(1)} MiB while the client stalled (file: 20 MiB, highWaterMark 1 MiB + kernel buffers)`)
  // RSS is the coarser figure: under the ASan addon the allocator's quarantine keeps freed
  // chunks resident (10.1 MiB measured in CI), so its bound is the file's size: holding the
  // whole file (what the test guards against) grows RSS past it (37 MiB measured).
  t.ok(rss < size, `RSS grew ${(rss / 1048576).toFixed(1)} MiB while the client stalled (under the file's 20 MiB)`)
  let head = Buffer.alloc(0)
  let body = 0
  const h = crypto.createHash('sha256')
  let headers = null
  await new Promise((resolve, reject) => {
    s.on('data', (d) => {
      if (headers === null) {
        head = Buffer.concat([head, d])
        const end = head.indexOf('\r\n\r\n')
        if (end < 0) return
        headers = head.subarray(0, end).toString('latin1')
        d = head.subarray(end + 4)
      }
      body += d.length
      h.update(d)
    })
    s.on('end', resolve)
    s.on('error', reject)
    s.resume()
  })
  t.match(headers, /^HTTP\/1\.1 200 /)
  t.match(headers, new RegExp(`\r\nContent-Length: ${size}\r\n`, 'i'))
  t.equal(body, size, 'every byte arrived')
  t.equal(h.digest('hex'), want, 'sha256 of the body equals the file')
  fs.rmSync(file)
})
