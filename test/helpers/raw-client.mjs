// A small raw HTTP/1.1 client for the tests: real TCP sockets (node:net), no mocks.
//
//   const c = await RawClient.connect(port)
//   await c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
//   const [res] = await c.readResponses(1)        // rejects on timeout or early close
//   const { responses, rest } = await c.readUntilClose()  // server must close the socket
//
// Responses are framed strictly: status line, CRLF-terminated header lines,
// body by Content-Length (or chunked, or until close when neither is present).
// Anything that does not look like an HTTP/1.x response is a parse error,
// which makes the waiting call reject: a test can never pass on garbage.

import net from 'node:net'

export const DEFAULT_TIMEOUT = 10_000

export const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Reject `promise` if it does not settle within `ms`. */
export function withTimeout (promise, ms, what = 'operation') {
  let timer
  const timeout = new Promise((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export class ResponseParseError extends Error {}

const CRLFCRLF = Buffer.from('\r\n\r\n')

/**
 * Try to parse one response at the start of `buf`.
 * Returns { response, used } or null when more bytes are needed.
 * `ended`: the peer has closed, so a body without framing ends at the end of buf.
 * Throws ResponseParseError on malformed bytes.
 */
export function parseOneResponse (buf, ended = false) {
  if (buf.length === 0) return null
  const headEnd = buf.indexOf(CRLFCRLF)
  if (headEnd < 0) {
    // Fail early on something that can never become a response.
    const prefix = 'HTTP/1.'
    const n = Math.min(buf.length, prefix.length)
    if (buf.toString('latin1', 0, n) !== prefix.slice(0, n)) {
      throw new ResponseParseError(`not an HTTP response: ${JSON.stringify(buf.toString('latin1', 0, 80))}`)
    }
    if (buf.length > 64 * 1024) throw new ResponseParseError('response head larger than 64 KiB')
    return null
  }
  const head = buf.toString('latin1', 0, headEnd)
  const lines = head.split('\r\n')
  for (const line of lines) {
    if (line.includes('\n') || line.includes('\r')) {
      throw new ResponseParseError(`bare CR or LF in response head: ${JSON.stringify(head)}`)
    }
  }
  const statusLine = lines[0]
  const m = /^HTTP\/(\d)\.(\d) (\d{3}) ([^\r\n]*)$/.exec(statusLine)
  if (!m) throw new ResponseParseError(`bad status line: ${JSON.stringify(statusLine)}`)
  const rawHeaders = []
  const headers = Object.create(null)
  for (const line of lines.slice(1)) {
    const hm = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$/.exec(line)
    if (!hm) throw new ResponseParseError(`bad header line: ${JSON.stringify(line)}`)
    const name = hm[1].toLowerCase()
    rawHeaders.push([hm[1], hm[2]])
    headers[name] = name in headers ? `${headers[name]}, ${hm[2]}` : hm[2]
  }
  const status = Number(m[3])
  const bodyStart = headEnd + 4
  const base = {
    statusLine,
    version: `${m[1]}.${m[2]}`,
    status,
    reason: m[4],
    headers,
    rawHeaders,
    head: buf.subarray(0, bodyStart).toString('latin1')
  }
  const done = (body, used) => ({
    response: { ...base, body: Buffer.from(body), text: Buffer.from(body).toString('utf8') },
    used
  })

  if ((status >= 100 && status < 200) || status === 204 || status === 304) {
    return done(Buffer.alloc(0), bodyStart)
  }
  const te = headers['transfer-encoding']
  if (te !== undefined) {
    if (!/(^|,)\s*chunked\s*$/i.test(te)) throw new ResponseParseError(`unsupported transfer-encoding ${te}`)
    if ('content-length' in headers) throw new ResponseParseError('response has both Content-Length and Transfer-Encoding')
    const parts = []
    let pos = bodyStart
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', pos)
      if (lineEnd < 0) return null
      const sizeLine = buf.toString('latin1', pos, lineEnd)
      const sm = /^([0-9a-fA-F]+)(;.*)?$/.exec(sizeLine)
      if (!sm) throw new ResponseParseError(`bad chunk size line ${JSON.stringify(sizeLine)}`)
      const size = parseInt(sm[1], 16)
      pos = lineEnd + 2
      if (size === 0) {
        // trailers until an empty line
        for (;;) {
          const e = buf.indexOf('\r\n', pos)
          if (e < 0) return null
          const empty = e === pos
          pos = e + 2
          if (empty) return done(Buffer.concat(parts), pos)
        }
      }
      if (buf.length < pos + size + 2) return null
      parts.push(buf.subarray(pos, pos + size))
      if (buf[pos + size] !== 13 || buf[pos + size + 1] !== 10) throw new ResponseParseError('chunk not followed by CRLF')
      pos += size + 2
    }
  }
  const cl = headers['content-length']
  if (cl !== undefined) {
    if (!/^\d+$/.test(cl)) throw new ResponseParseError(`bad Content-Length ${JSON.stringify(cl)}`)
    const len = Number(cl)
    if (buf.length < bodyStart + len) return null
    return done(buf.subarray(bodyStart, bodyStart + len), bodyStart + len)
  }
  // No framing: the body runs until the connection closes.
  if (!ended) return null
  return done(buf.subarray(bodyStart), buf.length)
}

/** Parse as many complete responses as `buf` holds (at most `max`). */
export function parseResponses (buf, { ended = false, max = Infinity } = {}) {
  const responses = []
  let off = 0
  while (responses.length < max && off < buf.length) {
    const r = parseOneResponse(buf.subarray(off), ended)
    if (!r) break
    responses.push(r.response)
    off += r.used
  }
  return { responses, used: off, rest: buf.subarray(off) }
}

function describe (buf) {
  const s = buf.toString('latin1', 0, Math.min(buf.length, 300))
  return `${buf.length} bytes buffered: ${JSON.stringify(s)}${buf.length > 300 ? '...' : ''}`
}

export class RawClient {
  /** Connect to 127.0.0.1:port (Nagle disabled so every write is its own segment). */
  static connect (port, { host = '127.0.0.1', timeout = DEFAULT_TIMEOUT, noDelay = true } = {}) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host })
      const timer = setTimeout(() => {
        socket.destroy()
        reject(new Error(`connect to ${host}:${port} timed out after ${timeout} ms`))
      }, timeout)
      socket.once('error', (err) => { clearTimeout(timer); reject(err) })
      socket.once('connect', () => {
        clearTimeout(timer)
        socket.removeAllListeners('error')
        if (noDelay) socket.setNoDelay(true)
        resolve(new RawClient(socket))
      })
    })
  }

  constructor (socket) {
    this.socket = socket
    this.buf = Buffer.alloc(0)
    this.ended = false // server sent FIN (or the socket closed)
    this.closed = false
    this.error = null
    this.bytesReceived = 0
    this._waiters = new Set()
    socket.on('data', (chunk) => {
      this.bytesReceived += chunk.length
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
      this._notify()
    })
    socket.on('end', () => { this.ended = true; this._notify() })
    socket.on('close', () => { this.closed = true; this.ended = true; this._notify() })
    socket.on('error', (err) => { this.error = err; this._notify() })
  }

  _notify () {
    for (const w of [...this._waiters]) w()
  }

  /**
   * Wait until check() returns a non-undefined value (resolve with it) or throws (reject).
   * check is re-run on every data/end/close/error event.
   */
  _waitFor (check, timeout, what) {
    return new Promise((resolve, reject) => {
      let timer
      const waiter = () => {
        let v
        try {
          v = check()
        } catch (err) {
          finish()
          reject(err)
          return
        }
        if (v !== undefined) { finish(); resolve(v) }
      }
      const finish = () => { clearTimeout(timer); this._waiters.delete(waiter) }
      timer = setTimeout(() => {
        finish()
        reject(new Error(`${what}: timed out after ${timeout} ms (ended=${this.ended}, ${describe(this.buf)})`))
      }, timeout)
      this._waiters.add(waiter)
      waiter()
    })
  }

  /** Write bytes; resolves when the data has been handed to the kernel. */
  write (data) {
    return new Promise((resolve, reject) => {
      if (this.socket.destroyed) { reject(new Error('write on a destroyed socket')); return }
      this.socket.write(data, (err) => (err ? reject(err) : resolve()))
    })
  }

  /**
   * Resolve with exactly `n` complete responses, removed from the buffer (extra bytes stay).
   * Rejects on timeout, on a response parse error, or when the socket ends first.
   */
  readResponses (n, { timeout = DEFAULT_TIMEOUT } = {}) {
    return this._waitFor(() => {
      const { responses, used } = parseResponses(this.buf, { ended: this.ended, max: n })
      if (responses.length === n) {
        this.buf = this.buf.subarray(used)
        return responses
      }
      if (this.ended) {
        throw new Error(`connection ended after ${responses.length} of ${n} responses (${describe(this.buf.subarray(used))}${this.error ? `, error ${this.error.code || this.error.message}` : ''})`)
      }
      if (this.error) throw this.error
      return undefined
    }, timeout, `waiting for ${n} response(s)`)
  }

  /**
   * Wait until the server closes the connection; resolve with every response it sent
   * (parsed from what was still buffered) and the unparsed rest. Rejects on timeout,
   * i.e. when the server keeps the connection open.
   */
  readUntilClose ({ timeout = DEFAULT_TIMEOUT } = {}) {
    return this._waitFor(() => {
      if (!this.ended) return undefined
      const { responses, rest } = parseResponses(this.buf, { ended: true })
      this.buf = Buffer.alloc(0)
      return { responses, rest }
    }, timeout, 'waiting for the server to close the connection')
  }

  /** Resolve true when the server closes within `ms`, false otherwise. */
  async closedWithin (ms) {
    try {
      await this._waitFor(() => (this.ended ? true : undefined), ms, 'close')
      return true
    } catch {
      return false
    }
  }

  /** Parse what is buffered right now (does not consume). */
  peek () {
    return parseResponses(this.buf, { ended: this.ended })
  }

  destroy () {
    this.socket.destroy()
  }
}

/** Connect and register a teardown that destroys the socket. */
export async function connect (t, port, opts) {
  const c = await RawClient.connect(port, opts)
  t.teardown(() => c.destroy())
  return c
}

/** Build a GET (or other body-less) request. */
export function get (target, { method = 'GET', version = '1.1', headers = {} } = {}) {
  let s = `${method} ${target} HTTP/${version}\r\nHost: 127.0.0.1\r\n`
  for (const [k, v] of Object.entries(headers)) s += `${k}: ${v}\r\n`
  return Buffer.from(s + '\r\n', 'latin1')
}

/** Build a request with a Content-Length body (Buffer or string). */
export function post (target, body, { method = 'POST', version = '1.1', headers = {} } = {}) {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body)
  let s = `${method} ${target} HTTP/${version}\r\nHost: 127.0.0.1\r\nContent-Length: ${b.length}\r\n`
  for (const [k, v] of Object.entries(headers)) s += `${k}: ${v}\r\n`
  return Buffer.concat([Buffer.from(s + '\r\n', 'latin1'), b])
}

/** IMF-fixdate, RFC 9110 section 5.6.7. */
export const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/

/**
 * One GET on a new connection (Connection: close), so the kernel picks a
 * listener each time (reusePort, cluster): resolves { status, body }, rejects
 * when the connection closes without an answer or after `ms`.
 */
export function getOnce (port, path, ms = DEFAULT_TIMEOUT) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1')
    let data = ''
    s.setTimeout(ms, () => { s.destroy(); reject(new Error('timeout')) })
    s.on('connect', () => s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`))
    s.on('data', (d) => { data += d })
    s.on('end', () => {
      if (!data) return reject(new Error('closed without an answer'))
      resolve({ status: Number(data.slice(9, 12)), body: data.slice(data.indexOf('\r\n\r\n') + 4) })
    })
    s.on('error', reject)
  })
}
