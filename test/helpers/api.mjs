// Helpers for the API tests (test/api-*.test.mjs): run the same behaviour over a
// real socket on 127.0.0.1 and through app.inject(), and compare.
//
//   forBoth(t, 'title', { options, setup }, async (t, { request, app, mode, port }) => { ... })
//
// `request({ method, url, headers, body, version })` resolves a normalized response:
//   { statusCode, statusMessage, headers (lower-case; set-cookie an array), body (string),
//     rawBody (Buffer), json(), head (socket only: the raw head) }
// Over a socket every request uses its own connection (Connection: close for HEAD and
// HTTP/1.0, so that a missing body can be checked: nothing may follow the head).

import { createRequire } from 'node:module'
import { RawClient, withTimeout, delay } from './raw-client.mjs'

const require = createRequire(import.meta.url)

export const MODES = ['socket', 'inject']
export const T = 10_000 // default bound of every wait
export { withTimeout, delay }

export function salvo () {
  return require('../../dist/index.js')
}

/** Build raw request bytes. */
export function buildRequest ({ method = 'GET', url = '/', headers = {}, body, version = '1.1' } = {}) {
  let b
  const h = { ...headers }
  const has = (n) => Object.keys(h).some((k) => k.toLowerCase() === n)
  if (body !== undefined) {
    if (typeof body === 'string') b = Buffer.from(body)
    else if (body instanceof Uint8Array) b = Buffer.from(body)
    else {
      b = Buffer.from(JSON.stringify(body))
      if (!has('content-type')) h['content-type'] = 'application/json'
    }
    if (!has('content-length') && !has('transfer-encoding')) h['content-length'] = b.length
  }
  if (!has('host')) h.host = '127.0.0.1'
  let s = `${method} ${url} HTTP/${version}\r\n`
  for (const [k, v] of Object.entries(h)) {
    for (const one of Array.isArray(v) ? v : [v]) s += `${k}: ${one}\r\n`
  }
  const head = Buffer.from(s + '\r\n', 'latin1')
  return b ? Buffer.concat([head, b]) : head
}

/** Normalize a RawClient response to the inject() shape. */
export function normalize (r) {
  const headers = {}
  for (const [name, value] of r.rawHeaders) {
    const k = name.toLowerCase()
    if (k === 'set-cookie') (headers[k] ??= []).push(value)
    else headers[k] = k in headers ? `${headers[k]}, ${value}` : value
  }
  const rawBody = Buffer.from(r.body)
  const body = rawBody.toString('utf8')
  return {
    statusCode: r.status,
    statusMessage: r.reason,
    version: r.version,
    headers,
    body,
    rawBody,
    head: r.head,
    json: () => JSON.parse(body)
  }
}

/** Parse a response head only (for HEAD responses); returns what follows it too. */
function parseHeadOnly (buf) {
  const end = buf.indexOf('\r\n\r\n')
  if (end < 0) throw new Error(`no response head in ${JSON.stringify(buf.toString('latin1', 0, 200))}`)
  const lines = buf.toString('latin1', 0, end).split('\r\n')
  const m = /^HTTP\/(\d\.\d) (\d{3}) ([^\r\n]*)$/.exec(lines[0])
  if (!m) throw new Error(`bad status line ${JSON.stringify(lines[0])}`)
  const rawHeaders = lines.slice(1).map((l) => {
    const i = l.indexOf(':')
    if (i <= 0) throw new Error(`bad header line ${JSON.stringify(l)}`)
    return [l.slice(0, i), l.slice(i + 1).trim()]
  })
  return {
    response: { status: Number(m[2]), reason: m[3], version: m[1], rawHeaders, body: Buffer.alloc(0), head: buf.toString('latin1', 0, end + 4) },
    rest: buf.subarray(end + 4)
  }
}

/** One request over its own connection. */
export async function socketRequest (port, opts = {}, { timeout = T } = {}) {
  const c = await RawClient.connect(port, { timeout })
  try {
    const isHead = (opts.method ?? 'GET').toUpperCase() === 'HEAD'
    const headers = { ...(opts.headers ?? {}) }
    if (isHead && !Object.keys(headers).some((k) => k.toLowerCase() === 'connection')) headers.connection = 'close'
    await c.write(buildRequest({ ...opts, headers }))
    if (isHead) {
      await c._waitFor(() => (c.ended ? true : undefined), timeout, 'HEAD: waiting for close')
      const { response, rest: after } = parseHeadOnly(c.buf)
      const n = normalize(response)
      n.extraBytes = after.length
      return n
    }
    if ((opts.version ?? '1.1') === '1.0') {
      const { responses, rest } = await c.readUntilClose({ timeout })
      if (responses.length !== 1) throw new Error(`expected 1 response, got ${responses.length} (rest ${rest.length})`)
      return normalize(responses[0])
    }
    const [r] = await c.readResponses(1, { timeout })
    return normalize(r)
  } finally {
    c.destroy()
  }
}

/** inject() with the result completed with `version` and a bounded wait. */
export async function injectRequest (app, opts = {}, { timeout = T } = {}) {
  const io = { ...opts }
  delete io.version
  const r = await withTimeout(app.inject(io), timeout, `inject ${opts.method ?? 'GET'} ${opts.url ?? '/'}`)
  return r
}

/** Create an app (new App(options); await setup(app)) and start it for `mode`. */
export async function makeApp (t, mode, { options, setup } = {}) {
  const { App } = salvo()
  const app = options === undefined ? new App() : new App(options)
  if (setup) await setup(app)
  if (mode === 'socket') {
    const server = await withTimeout(app.listen({ port: 0, host: '127.0.0.1' }), T, 'listen')
    t.teardown(() => withTimeout(Promise.resolve(server.close({ timeout: 500 })), T, 'close').catch(() => {}))
    return { app, server, port: server.port, mode, request: (o, w) => socketRequest(server.port, o, w) }
  }
  return { app, mode, request: (o, w) => injectRequest(app, o, w) }
}

/** Run `fn` once over a socket and once through inject, as two subtests. */
export function forBoth (t, title, cfg, fn, extra = {}) {
  for (const mode of MODES) {
    t.test(`${title} [${mode}]`, extra, async (t) => {
      const ctx = await makeApp(t, mode, cfg)
      await fn(t, ctx)
    })
  }
}

/** Start an app on a socket only. */
export async function listenApp (t, cfg) {
  return makeApp(t, 'socket', cfg)
}

/** Catch what fn throws (sync); returns the error or undefined. */
export function catchSync (fn) {
  try { fn() } catch (err) { return err }
  return undefined
}

/** Assert that fn() throws a SalvoError with `code`. */
export function throwsCode (t, fn, code, msg) {
  const err = catchSync(fn)
  t.ok(err, `${msg ?? code}: throws`)
  if (err) {
    t.equal(err.code, code, `${msg ?? code}: code`)
    t.equal(err.name, 'SalvoError', `${msg ?? code}: SalvoError`)
    t.ok(err instanceof salvo().SalvoError, `${msg ?? code}: instanceof SalvoError`)
  }
  return err
}

/** A gate: a promise the test resolves later. */
export function gate () {
  let open
  const p = new Promise((resolve) => { open = resolve })
  return { p, open }
}

/** Wait until cond() is true (polls every 5 ms), bounded. */
export async function until (cond, what = 'condition', timeout = T) {
  const start = Date.now()
  while (!cond()) {
    if (Date.now() - start > timeout) throw new Error(`${what}: not met within ${timeout} ms`)
    await delay(5)
  }
}

export const IMF = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/
