// The documented differences between salvo's framing and llhttp's, as code: each
// policy is a small, explicit predicate over the first message on which the two
// part (docs/PROTOCOL.md, "Differences from llhttp", has a row for each id), and
// `classify` names the one an observed difference is.  The limits and the framing
// call are here too, so that the predicates and the parser use the same numbers.

import { createRequire } from 'node:module'
import { TCHAR } from './corpus.mjs'

const addon = createRequire(import.meta.url)('../../build/Release/salvo.node')

export const IMPLS = addon.cpuHasSse42() ? ['sse42', 'scalar'] : ['scalar']
// salvo's defaults, except maxHeaders 100 (the default is 2000), so that the
// field-count policy is reached by short inputs.
export const LIMITS = { maxHeaderBytes: 16 * 1024, maxHeaders: 100, maxBody: 1024 * 1024 }

export const frame = (buf, impl) => addon.frameMessages(buf, impl, LIMITS)

// ---------------------------------------------------------------------------
// A loose reading of message k's head, for the predicates: request line and
// field lines as written (lines end at LF, a CR before it is dropped).

function looseHead (region) {
  const text = region.toString('latin1')
  let end = text.search(/\r?\n\r?\n/)
  const complete = end >= 0
  if (!complete) end = text.length
  const lines = text.slice(0, end).split('\n').map((x) => x.replace(/\r$/, ''))
  const requestLine = lines[0]
  const words = requestLine.split(' ')
  const fields = []
  const rawFields = []
  for (const line of lines.slice(1)) {
    const c = line.indexOf(':')
    if (c <= 0) continue
    fields.push([line.slice(0, c).toLowerCase(), line.slice(c + 1).replace(/^[ \t]+|[ \t]+$/g, '')])
    rawFields.push([line.slice(0, c).toLowerCase(), line.slice(c + 1)])
  }
  const values = (name) => fields.filter(([n]) => n === name).map(([, v]) => v)
  const versionWord = words[words.length - 1]
  const vm = /^HTTP\/(\d)\.(\d)$/.exec(versionWord)
  return {
    text,
    complete,
    headLength: complete ? text.slice(0, end).length + (text.slice(end, end + 4).match(/^\r?\n\r?\n/)[0].length) : text.length,
    requestLine,
    requestLineLength: text.indexOf('\n') < 0 ? text.length : text.indexOf('\n') + 1,
    method: words[0],
    words,
    major: vm ? Number(vm[1]) : -1,
    minor: vm ? Number(vm[2]) : -1,
    fieldCount: lines.length - 1,
    values,
    rawFields
  }
}

const listElements = (v) => v.split(',').map((x) => x.trim())
const isToken = (s) => s.length > 0 && [...s].every((c) => TCHAR.includes(c))

// RFC 3986 3.2.2 host [ ":" port ]: IP-literal, or reg-name (which covers IPv4address).
const HOST_RE = /^(?:\[[0-9A-Fa-f:.]+\]|\[v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)(?::[0-9]*)?$/

// The methods llhttp accepts in an HTTP/1.x request line (llhttp 9, src/llhttp/constants:
// METHODS_HTTP minus PRI, which it only takes as the HTTP/2 preface).
const LLHTTP_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'POST', 'PUT', 'CONNECT', 'OPTIONS', 'TRACE',
  'COPY', 'LOCK', 'MKCOL', 'MOVE', 'PROPFIND', 'PROPPATCH', 'SEARCH', 'UNLOCK', 'BIND', 'REBIND',
  'UNBIND', 'ACL', 'REPORT', 'MKACTIVITY', 'CHECKOUT', 'MERGE', 'M-SEARCH', 'NOTIFY', 'SUBSCRIBE',
  'UNSUBSCRIBE', 'PATCH', 'PURGE', 'MKCALENDAR', 'LINK', 'UNLINK', 'SOURCE', 'QUERY'])

/** Declared body sizes of message k larger than maxBody (Content-Length, or a chunk-size line). */
function declaresTooLarge (h, region) {
  for (const v of h.values('content-length')) {
    if (/^\d+$/.test(v) && BigInt(v) > BigInt(LIMITS.maxBody)) return true
  }
  if (!h.complete || h.values('transfer-encoding').length === 0) return false
  // Walk the chunk-size lines as far as they look like chunks.
  let p = h.headLength
  let total = 0n
  for (;;) {
    const eol = region.indexOf('\r\n', p)
    const line = region.toString('latin1', p, eol < 0 ? region.length : eol)
    const m = /^([0-9A-Fa-f]+)/.exec(line)
    if (!m) return false
    total += BigInt('0x' + m[1])
    if (total > BigInt(LIMITS.maxBody)) return true
    if (eol < 0 || m[1].match(/^0+$/)) return false
    p = eol + 2 + Number(BigInt('0x' + m[1])) + 2
  }
}

/** The chunk-size lines of a chunked message that starts at `region`, and
 * where its trailer section starts (-1 if the chunks cannot be walked to it). */
function chunkLines (h, region) {
  const lines = []
  if (!h.complete || h.values('transfer-encoding').length === 0) return { lines, trailerAt: -1 }
  let p = h.headLength
  for (;;) {
    const eol = region.indexOf('\r\n', p)
    if (eol < 0) return { lines, trailerAt: -1 }
    const line = region.toString('latin1', p, eol)
    lines.push(line)
    const m = /^([0-9A-Fa-f]+)/.exec(line)
    if (!m) return { lines, trailerAt: -1 }
    const size = Number.parseInt(m[1], 16)
    p = eol + 2
    if (size === 0) return { lines, trailerAt: p }
    p += size + 2
  }
}

/** The trailer fields of a chunked message that starts at `region`, as far as
 * its chunks can be walked ([] when they cannot). */
function trailerFields (h, region) {
  let p = chunkLines(h, region).trailerAt
  if (p < 0) return []
  const fields = []
  for (;;) {
    const eol = region.indexOf('\r\n', p)
    if (eol < 0 || eol === p) return fields
    const line = region.toString('latin1', p, eol)
    const c = line.indexOf(':')
    if (c > 0) fields.push([line.slice(0, c).toLowerCase(), line.slice(c + 1).trim()])
    p = eol + 2
  }
}

/** The line of `buf` that holds byte `offset`. */
function lineAt (buf, offset) {
  let a = offset
  while (a > 0 && buf[a - 1] !== 10) a--
  let b = offset
  while (b < buf.length && buf[b] !== 10) b++
  return buf.toString('latin1', a, b).replace(/\r$/, '')
}

// chunk-size [ chunk-ext ], chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )
// (RFC 9112 7.1.1, BWS = *( SP / HTAB )).
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+"
const QUOTED = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"'
const CHUNK_LINE_RE = new RegExp(`^[0-9A-Fa-f]+(?:[ \\t]*;[ \\t]*${TOKEN}(?:[ \\t]*=[ \\t]*(?:${TOKEN}|${QUOTED}))?)*$`)

// ---------------------------------------------------------------------------
// The documented policy differences.  `when` says which side refused (or what
// else differed) at message k; `match` is the precise condition.  The ids are
// the row names of the table in docs/PROTOCOL.md.

const salvoRefused = (status) => (d) =>
  d.s.kind === 'reject' && d.s.status === status && (d.l.kind === 'msg' || d.l.kind === 'incomplete')
const llhttpRefused = (...codes) => (d) =>
  d.l.kind === 'reject' && codes.includes(d.l.code) && (d.s.kind === 'msg' || d.s.kind === 'incomplete')
// (llhttp refuses "PRI" with a version other than 2.0 on the byte after the request line)
const inRequestLine = (d, h) => d.l.offset <= d.start + h.requestLineLength
const inBody = (d, h) => h.complete && d.l.offset >= d.start + h.headLength

export const POLICIES = [
  {
    id: 'upgrade-connect',
    when: (d) => (d.prev && d.prev.l.upgrade) || (d.l.kind === 'msg' && d.l.m.upgrade) ||
      (d.l.kind === 'stopped' && d.l.why === 'upgrade') || (d.l.kind === 'incomplete' && d.l.head?.upgrade),
    match: () => true
  },
  {
    id: 'host-validation',
    when: salvoRefused(400),
    match: (d, h) => {
      const hosts = h.values('host')
      return (h.minor >= 1 && hosts.length !== 1) || hosts.length > 1 || hosts.some((v) => v === '' || !HOST_RE.test(v))
    }
  },
  {
    id: 'leading-empty-line',
    when: salvoRefused(400),
    match: (d, h, region) => region[0] === 13 || region[0] === 10
  },
  {
    id: 'request-line-whitespace',
    when: salvoRefused(400),
    match: (d, h) => / {2}/.test(h.requestLine) || h.requestLine.endsWith(' ')
  },
  {
    id: 'http-0.9',
    when: salvoRefused(400),
    // llhttp reads "GET /x" CRLF as an HTTP/0.9 request line, fields and all
    match: (d, h) => h.words.length === 2 && (d.l.kind === 'incomplete' || d.l.m.versionMajor === 0)
  },
  {
    id: 'major-version',
    when: salvoRefused(505),
    match: (d, h) => h.major >= 0 && h.major !== 1
  },
  {
    id: 'expect',
    when: salvoRefused(417),
    match: (d, h) => h.values('expect').some((v) => v.toLowerCase() !== '100-continue')
  },
  {
    id: 'header-limits',
    when: salvoRefused(431),
    match: (d, h) => h.fieldCount > LIMITS.maxHeaders || h.headLength > LIMITS.maxHeaderBytes
  },
  {
    id: 'body-limit',
    when: salvoRefused(413),
    match: (d, h, region) => declaresTooLarge(h, region)
  },
  {
    id: 'content-length-range',
    when: salvoRefused(400),
    match: (d, h) => h.values('content-length').some((v) => /^\d+$/.test(v) && (v.length > 16 || BigInt(v) > 2n ** 53n - 1n))
  },
  {
    id: 'te-http-1.0',
    when: salvoRefused(400),
    match: (d, h) => h.minor === 0 && h.values('transfer-encoding').length > 0
  },
  {
    id: 'te-unsupported-coding',
    when: salvoRefused(501),
    match: (d, h) => h.values('transfer-encoding').some((v) => listElements(v).some((c) => c !== '' && c.toLowerCase() !== 'chunked'))
  },
  {
    id: 'chunk-ext-syntax',
    when: salvoRefused(400),
    match: (d, h, region) => chunkLines(h, region).lines.some((line) => !CHUNK_LINE_RE.test(line) && /^[0-9A-Fa-f]+[ \t]*;/.test(line))
  },
  {
    id: 'checked-with-whole-head',
    // llhttp refuses a bad version or framing field as soon as it has read
    // it; salvo decides on them once the head is complete.  The input ended
    // in between: salvo must refuse the head as received, ended there (the
    // last line closed with CRLF, and a Host field added if none came, so
    // that its absence is not what is refused).
    when: (d) => d.s.kind === 'incomplete' && d.l.kind === 'reject' &&
      ['HPE_INVALID_VERSION', 'HPE_INVALID_TRANSFER_ENCODING', 'HPE_UNEXPECTED_CONTENT_LENGTH',
        'HPE_INVALID_CONTENT_LENGTH'].includes(d.l.code),
    match: (d, h, region) => {
      if (h.complete) return false
      let lines = region.toString('latin1').replace(/\r$/, '')
      if (!lines.endsWith('\r\n')) lines += '\r\n'
      const host = /\r\nhost:/i.test(lines) ? '' : 'Host: a\r\n'
      const closed = Buffer.from(lines + host + '\r\n', 'latin1')
      return IMPLS.every((impl) => frame(closed, impl).status !== 0)
    }
  },
  {
    id: 'connection-close-wins',
    when: (d) => d.s.kind === 'msg' && d.l.kind === 'msg' && d.diff === 'keepAlive false vs true',
    match: (d, h) => h.values('connection').some((v) => listElements(v).some((c) => c.toLowerCase() === 'close'))
  },
  {
    id: 'trailer-fields',
    // llhttp applies Content-Length / Transfer-Encoding / Connection found in
    // the trailer section (refusing the first two, closing on the third)
    when: (d) => llhttpRefused('HPE_INVALID_CONTENT_LENGTH', 'HPE_UNEXPECTED_CONTENT_LENGTH', 'HPE_INVALID_TRANSFER_ENCODING')(d) ||
      (d.prev && d.l.kind === 'stopped' && d.l.why === 'closed' && d.s.kind !== 'stopped'),
    match: (d, h, region, buf) => {
      if (d.l.kind === 'reject') {
        return inBody(d, h) && trailerFields(h, region).some(([n]) => n === 'content-length' || n === 'transfer-encoding')
      }
      const prev = buf.subarray(d.prevStart, d.start)
      return d.prev.s.keepAlive && trailerFields(looseHead(prev), prev).some(([n, v]) =>
        n === 'connection' && listElements(v).some((c) => c.toLowerCase() === 'close'))
    }
  },
  {
    id: 'extension-method',
    when: llhttpRefused('HPE_INVALID_METHOD', 'HPE_INVALID_CONSTANT', 'HPE_INVALID_VERSION'),
    match: (d, h, region) => {
      if (!inRequestLine(d, h)) return false
      const sp = region.indexOf(0x20)
      // the method as far as it goes: salvo may still be waiting for its end
      const method = region.toString('latin1', 0, sp < 0 ? region.length : sp)
      return isToken(method) && !LLHTTP_METHODS.has(method)
    }
  },
  {
    id: 'request-target-syntax',
    when: llhttpRefused('HPE_INVALID_URL'),
    match: (d, h) => inRequestLine(d, h)
  },
  {
    id: 'minor-version',
    when: llhttpRefused('HPE_INVALID_VERSION'),
    match: (d, h) => inRequestLine(d, h) && h.major === 1 && h.minor >= 2
  },
  {
    id: 'duplicate-content-length',
    when: llhttpRefused('HPE_UNEXPECTED_CONTENT_LENGTH'),
    match: (d, h) => {
      const cl = h.values('content-length')
      return cl.length > 1 && cl.every((v) => /^\d+$/.test(v) && BigInt(v) === BigInt(cl[0]))
    }
  },
  {
    id: 'trailing-htab',
    when: llhttpRefused('HPE_INVALID_CONTENT_LENGTH', 'HPE_INVALID_TRANSFER_ENCODING'),
    // (llhttp may only notice at the end of the head, so look at every such field)
    match: (d, h) => h.rawFields.some(([name, raw]) => {
      const m = /^[ \t]*(.*?)([ \t]*)$/.exec(raw)
      if (!m[2].includes('\t')) return false
      if (name === 'content-length') return /^\d+$/.test(m[1])
      return name === 'transfer-encoding' && listElements(m[1]).at(-1).toLowerCase() === 'chunked'
    })
  },
  {
    id: 'te-empty-list-element',
    when: llhttpRefused('HPE_INVALID_TRANSFER_ENCODING'),
    match: (d, h) => h.values('transfer-encoding').some((v) => {
      const els = listElements(v)
      const real = els.filter((c) => c !== '')
      return els.length !== real.length && real.length > 0 && real.every((c) => c.toLowerCase() === 'chunked')
    })
  },
  {
    id: 'chunk-ext-whitespace',
    when: llhttpRefused('HPE_STRICT', 'HPE_INVALID_CHUNK_SIZE'),
    match: (d, h, region, buf) => {
      if (!inBody(d, h)) return false
      const line = lineAt(buf, d.l.offset)
      return /[ \t]/.test(line) && CHUNK_LINE_RE.test(line)
    }
  }
]

export function classify (buf, d) {
  const region = buf.subarray(d.start)
  const h = looseHead(region)
  for (const p of POLICIES) {
    if (p.when(d) && p.match(d, h, region, buf)) return p.id
  }
  return null
}
