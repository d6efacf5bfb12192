// HTTP/1.1 request conformance (RFC 9112, with RFC 9110 for field semantics),
// organised like llhttp's request test suite: methods, request targets,
// versions, line endings, field lines, Host, Content-Length,
// Transfer-Encoding, chunked bodies, connection persistence, Expect,
// pipelining, limits and fragmentation at every byte boundary.
//
// The cases run through addon.frameMessages(), the exact framing loop the
// connection runs over a read buffer, on both parser implementations.  What
// only a connection shows is in conformance-socket.test.mjs.
//
// Salvo's deliberate choices where the RFC leaves room (or where salvo is
// stricter than llhttp) are in docs/PROTOCOL.md; a case here that tests one
// says so.  What the RFC asks and salvo does not do yet is a t.todo.

import t from 'tap'
import { createRequire } from 'node:module'
import { H, CHUNKED, get, post, chunked, fields } from './helpers/request-text.mjs'

const addon = createRequire(import.meta.url)('../build/Release/salvo.node')
const IMPLS = addon.cpuHasSse42() ? ['sse42', 'scalar'] : ['scalar']

const DEFAULTS = { maxHeaderBytes: 16 * 1024, maxHeaders: 2000, maxBody: 1024 * 1024 }
const frame = (input, impl, limits = DEFAULTS) =>
  addon.frameMessages(Buffer.isBuffer(input) ? input : Buffer.from(input, 'latin1'), impl, limits)


// Expectations --------------------------------------------------------------
//   ok(msg...)      complete messages; msg = { method, target, body, keepAlive, headers, ... }
//                   (only the keys given are checked); `rest` bytes left unread
//   refuse(status)  the connection answers `status` and closes (after `before` messages)
//   waiting()       a valid prefix: no message yet, no error
const ok = (...messages) => ({ status: 0, messages })
const refuse = (status, before = 0) => ({ status, before })
const waiting = () => ({ status: 0, messages: [], waiting: true })

function check (t, impl, input, want, limits) {
  const r = frame(input, impl, limits)
  const label = `${impl}: ${JSON.stringify(typeof input === 'string' ? input.slice(0, 160) : '<buffer>')}`
  if (want.status) {
    t.equal(r.status, want.status, `${label} -> ${want.status}`)
    t.equal(r.messages.length, want.before, `${label}: ${want.before} message(s) before the error`)
    return r
  }
  t.equal(r.status, 0, `${label} is accepted`)
  t.equal(r.messages.length, want.messages.length, `${label}: ${want.messages.length} message(s)`)
  want.messages.forEach((w, i) => {
    const m = r.messages[i]
    if (!m) return
    for (const [k, v] of Object.entries(w)) {
      if (k === 'body') t.equal(m.body.toString('latin1'), v, `${label}: message ${i} body`)
      else t.same(m[k], v, `${label}: message ${i} ${k}`)
    }
  })
  if (want.waiting) t.equal(r.rest, Buffer.byteLength(input, 'latin1'), `${label}: waits for more`)
  if (want.rest !== undefined) t.equal(r.rest, want.rest, `${label}: ${want.rest} byte(s) left unread`)
  return r
}

/** A table of [name, input, want, limits?] run on every implementation. */
function table (t, name, rows) {
  t.test(name, async (t) => {
    for (const [title, input, want, limits] of rows) {
      t.test(title, async (t) => {
        for (const impl of IMPLS) check(t, impl, input, want, limits)
      })
    }
  })
}

// ---------------------------------------------------------------------------
// Methods: RFC 9112 3.1, RFC 9110 9.1 (method = token, case-sensitive).

table(t, 'methods', [
  ...['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH'].map((m) =>
    [m, `${m} /x HTTP/1.1\r\n${H}\r\n`, ok({ method: m, target: '/x' })]),
  ['CONNECT (authority-form, parsed as an ordinary request)', `CONNECT example.com:443 HTTP/1.1\r\n${H}\r\n`, ok({ method: 'CONNECT', target: 'example.com:443' })],
  ['extension method (any token)', `BREW /pot HTTP/1.1\r\n${H}\r\n`, ok({ method: 'BREW' })],
  ['every tchar', `!#$%&'*+-.^_\`|~09azAZ / HTTP/1.1\r\n${H}\r\n`, ok({ method: "!#$%&'*+-.^_`|~09azAZ" })],
  ['methods are case-sensitive: "get" is another method', `get / HTTP/1.1\r\n${H}\r\n`, ok({ method: 'get' })],
  ['M-SEARCH', `M-SEARCH * HTTP/1.1\r\n${H}\r\n`, ok({ method: 'M-SEARCH', target: '*' })],
  ['empty method', ` / HTTP/1.1\r\n${H}\r\n`, refuse(400)],
  ['non-token byte in the method', `GE(T / HTTP/1.1\r\n${H}\r\n`, refuse(400)],
  ['NUL in the method', `GE\0T / HTTP/1.1\r\n${H}\r\n`, refuse(400)],
  ['HTAB after the method', `GET\t/ HTTP/1.1\r\n${H}\r\n`, refuse(400)],
  ['a method cut short is incomplete', 'PROPFI', waiting()],
  ['a method never ending in SP is refused at the first non-token byte', 'GET\r\n', refuse(400)]
])

// Request targets: RFC 9112 3.2.

table(t, 'request targets', [
  ['origin-form with query', get('/a/b?c=d&e=%20'), ok({ target: '/a/b?c=d&e=%20' })],
  ['absolute-form', get('http://example.com:8080/p?q'), ok({ target: 'http://example.com:8080/p?q' })],
  ['asterisk-form', `OPTIONS * HTTP/1.1\r\n${H}\r\n`, ok({ method: 'OPTIONS', target: '*' })],
  ['every VCHAR', get("/!\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~"), ok({ target: "/!\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~" })],
  ['obs-text is passed through to the router (policy: request-target-syntax)', get('/caf\xc3\xa9'), ok({ target: '/café' })],
  ['a target not starting with "/" is the router\'s business (policy)', get('index.html'), ok({ target: 'index.html' })],
  ['empty target (two SP)', `GET  HTTP/1.1\r\n${H}\r\n`, refuse(400)],
  ['SP inside the target', `GET /a b HTTP/1.1\r\n${H}\r\n`, refuse(400)],
  ['HTAB inside the target', `GET /a\tb HTTP/1.1\r\n${H}\r\n`, refuse(400)],
  ['CTL inside the target', `GET /a\x01b HTTP/1.1\r\n${H}\r\n`, refuse(400)],
  ['DEL inside the target', `GET /a\x7fb HTTP/1.1\r\n${H}\r\n`, refuse(400)],
  ['NUL inside the target', `GET /a\0b HTTP/1.1\r\n${H}\r\n`, refuse(400)],
  ['a long target within the head limit', get('/' + 'a'.repeat(8000)), ok({ target: '/' + 'a'.repeat(8000) })],
  ['a target longer than the head limit is 431 (salvo has no separate 414)', get('/' + 'a'.repeat(17000)), refuse(431)]
])

// Versions: RFC 9112 2.3 and 2.6, RFC 9110 6.2 and 15.6.6.

table(t, 'HTTP versions', [
  ['HTTP/1.1', get(), ok({ minor: 1, keepAlive: true })],
  ['HTTP/1.0', get('/', '', '1.0'), ok({ minor: 0, keepAlive: false })],
  ['HTTP/1.0 without Host', 'GET / HTTP/1.0\r\n\r\n', ok({ minor: 0 })],
  ['a higher minor version is served as 1.x (RFC 9110 6.2)', get('/', '', '1.9'), ok({ minor: 9, keepAlive: true })],
  ['HTTP/2.0 -> 505', get('/', '', '2.0'), refuse(505)],
  ['HTTP/0.9 in a request line -> 505', get('/', '', '0.9'), refuse(505)],
  ['HTTP/3.0 -> 505', get('/', '', '3.0'), refuse(505)],
  ['no version (HTTP/0.9 simple request) -> 400', 'GET /\r\n\r\n', refuse(400)],
  ['lower-case protocol name', `GET / http/1.1\r\n${H}\r\n`, refuse(400)],
  ['one digit', `GET / HTTP/1\r\n${H}\r\n`, refuse(400)],
  ['two-digit major', `GET / HTTP/11.1\r\n${H}\r\n`, refuse(400)],
  ['two-digit minor', `GET / HTTP/1.10\r\n${H}\r\n`, refuse(400)],
  ['letters', `GET / HTTP/a.b\r\n${H}\r\n`, refuse(400)],
  ['SP after the version', `GET / HTTP/1.1 \r\n${H}\r\n`, refuse(400)],
  ['SP before the version twice', `GET /  HTTP/1.1\r\n${H}\r\n`, refuse(400)],
  ['a version cut short is incomplete', 'GET / HTTP/1.', waiting()]
])

// Line endings: RFC 9112 2.2 (salvo: CRLF only; see PROTOCOL.md).

table(t, 'line endings', [
  ['bare LF after the request line', `GET / HTTP/1.1\n${H}\r\n`, refuse(400)],
  ['bare LF after a field', `GET / HTTP/1.1\r\nHost: a\n\r\n`, refuse(400)],
  ['bare LF as the empty line', `GET / HTTP/1.1\r\n${H}\n`, refuse(400)],
  ['LF only everywhere', 'GET / HTTP/1.1\nHost: a\n\n', refuse(400)],
  ['bare CR after the request line', `GET / HTTP/1.1\r${H}\r\n`, refuse(400)],
  ['bare CR in a field value', `GET / HTTP/1.1\r\nX: a\rb\r\n${H}\r\n`, refuse(400)],
  ['CR CR LF', `GET / HTTP/1.1\r\r\n${H}\r\n`, refuse(400)],
  ['an empty line before the request line (policy: leading-empty-line)', `\r\n${get()}`, refuse(400)],
  ['CRLF after a body, before the next request (policy: leading-empty-line)', `${post('ab')}\r\n${get()}`, refuse(400, 1)],
  ['a head ending in CR is incomplete', `GET / HTTP/1.1\r\n${H}\r`, waiting()]
])

// Field lines: RFC 9112 5, RFC 9110 5.1, 5.5, 5.6.

table(t, 'field lines', [
  ['names keep their case, values lose OWS', `GET / HTTP/1.1\r\n${H}X-Mixed-Case:  \t value with  inner  space \t \r\n\r\n`,
    ok({ headers: [['Host', 'example.com'], ['X-Mixed-Case', 'value with  inner  space']] })],
  ['an empty value', `GET / HTTP/1.1\r\n${H}X-Empty:\r\nX-Blank:   \r\n\r\n`, ok({ headers: [['Host', 'example.com'], ['X-Empty', ''], ['X-Blank', '']] })],
  ['HTAB inside a value', `GET / HTTP/1.1\r\n${H}X: a\tb\r\n\r\n`, ok({ headers: [['Host', 'example.com'], ['X', 'a\tb']] })],
  ['obs-text in a value', `GET / HTTP/1.1\r\n${H}X: caf\xc3\xa9\r\n\r\n`, ok({ headers: [['Host', 'example.com'], ['X', 'café']] })],
  ['every tchar in a name', `GET / HTTP/1.1\r\n${H}!#$%&'*+-.^_\`|~09azAZ: v\r\n\r\n`, ok({})],
  ['a colon in a value', `GET / HTTP/1.1\r\n${H}X: a:b::\r\n\r\n`, ok({ headers: [['Host', 'example.com'], ['X', 'a:b::']] })],
  ['SP before the colon (RFC 9112 5.1)', `GET / HTTP/1.1\r\n${H}X : v\r\n\r\n`, refuse(400)],
  ['HTAB before the colon', `GET / HTTP/1.1\r\n${H}X\t: v\r\n\r\n`, refuse(400)],
  ['obs-fold (RFC 9112 5.2)', `GET / HTTP/1.1\r\n${H}X: a\r\n b\r\n\r\n`, refuse(400)],
  ['obs-fold with HTAB', `GET / HTTP/1.1\r\n${H}X: a\r\n\tb\r\n\r\n`, refuse(400)],
  ['a first field line starting with SP', `GET / HTTP/1.1\r\n ${H}\r\n`, refuse(400)],
  ['empty name', `GET / HTTP/1.1\r\n${H}: v\r\n\r\n`, refuse(400)],
  ['no colon', `GET / HTTP/1.1\r\n${H}NoColon\r\n\r\n`, refuse(400)],
  ['non-token byte in a name', `GET / HTTP/1.1\r\n${H}X(Y: v\r\n\r\n`, refuse(400)],
  ['obs-text in a name', `GET / HTTP/1.1\r\n${H}X\xe9: v\r\n\r\n`, refuse(400)],
  ['NUL in a value', `GET / HTTP/1.1\r\n${H}X: a\0b\r\n\r\n`, refuse(400)],
  ['CTL in a value', `GET / HTTP/1.1\r\n${H}X: a\x1bb\r\n\r\n`, refuse(400)],
  ['DEL in a value', `GET / HTTP/1.1\r\n${H}X: a\x7fb\r\n\r\n`, refuse(400)],
  ['a value cut short is incomplete', `GET / HTTP/1.1\r\n${H}X: abc`, waiting()]
])

// Host: RFC 9112 3.2 ("A server MUST respond with a 400 (Bad Request) status
// code to any HTTP/1.1 request message that lacks a Host header field and to
// any request message that contains more than one Host header field line or
// a Host header field with an invalid field value"), RFC 9110 7.2.

table(t, 'Host', [
  ['one Host', get(), ok({})],
  ['Host with a port', `GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n`, ok({})],
  ['Host that is an IPv6 literal', `GET / HTTP/1.1\r\nHost: [::1]:3000\r\n\r\n`, ok({})],
  ['lower-case name', `GET / HTTP/1.1\r\nhost: a\r\n\r\n`, ok({})],
  ['HTTP/1.0 without Host', 'GET / HTTP/1.0\r\n\r\n', ok({})],
  ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n', refuse(400)],
  ['two Host lines', `GET / HTTP/1.1\r\n${H}${H}\r\n`, refuse(400)],
  ['two Host lines, HTTP/1.0', `GET / HTTP/1.0\r\n${H}${H}\r\n`, refuse(400)],
  ['two Host lines with different values', `GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`, refuse(400)],
  ['a list in Host', 'GET / HTTP/1.1\r\nHost: a, b\r\n\r\n', refuse(400)],
  ['SP inside Host', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', refuse(400)],
  ['userinfo in Host', 'GET / HTTP/1.1\r\nHost: user@a\r\n\r\n', refuse(400)],
  ['a path in Host', 'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', refuse(400)],
  ['empty Host (policy: salvo has no target without authority)', 'GET / HTTP/1.1\r\nHost:\r\n\r\n', refuse(400)]
])

// Host values with the right characters in the wrong shape: RFC 9112 3.2
// asks for a 400 (valid_host() checks the uri-host [":" port] shape).
t.test('Host values that are not uri-host [":" port]', async (t) => {
  for (const host of ['a:80x', '%zz', '[::1', '::1', 'a:b:c', 'a]']) {
    for (const impl of IMPLS) {
      const input = `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`
      t.equal(frame(input, impl).status, 400, `${impl}: Host: ${host} -> 400; repro: frameMessages(${JSON.stringify(input)})`)
    }
  }
  for (const host of ['a:', '[v1.x]', 'a:65536', '127.0.0.1', 'xn--bcher-kva.example']) {
    for (const impl of IMPLS) t.equal(frame(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`, impl).status, 0, `${impl}: Host: ${host} is valid syntax`)
  }
})

// Content-Length: RFC 9112 6.2 and 6.3, RFC 9110 8.6.

const LIMIT10 = { ...DEFAULTS, maxBody: 10 }

table(t, 'Content-Length', [
  ['a body of exactly Content-Length bytes', post('hello'), ok({ method: 'POST', body: 'hello', consumed: post('hello').length })],
  ['binary body bytes, CRLF and NUL included', post('a\r\n\r\n\0b'), ok({ body: 'a\r\n\r\n\0b' })],
  ['Content-Length: 0', post(''), ok({ body: '' })],
  ['a GET with a body', `GET / HTTP/1.1\r\n${H}Content-Length: 2\r\n\r\nhi`, ok({ method: 'GET', body: 'hi' })],
  ['leading zeros', `POST / HTTP/1.1\r\n${H}Content-Length: 005\r\n\r\nhello`, ok({ body: 'hello' })],
  ['the next request starts right after the body', post('abc') + get('/next'), ok({ body: 'abc' }, { target: '/next' })],
  ['a body cut short waits', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhel`, waiting()],
  ['identical duplicates (policy: duplicate-content-length)', `POST / HTTP/1.1\r\n${H}Content-Length: 2\r\nContent-Length: 2\r\n\r\nhi`, ok({ body: 'hi' })],
  ['differing duplicates (RFC 9112 6.3 item 5)', `POST / HTTP/1.1\r\n${H}Content-Length: 2\r\nContent-Length: 3\r\n\r\nhi!`, refuse(400)],
  ['a list, even of equal values (policy)', `POST / HTTP/1.1\r\n${H}Content-Length: 2, 2\r\n\r\nhi`, refuse(400)],
  ['a sign', `POST / HTTP/1.1\r\n${H}Content-Length: +2\r\n\r\nhi`, refuse(400)],
  ['negative', `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, refuse(400)],
  ['hex', `POST / HTTP/1.1\r\n${H}Content-Length: 0x2\r\n\r\nhi`, refuse(400)],
  ['SP inside', `POST / HTTP/1.1\r\n${H}Content-Length: 1 2\r\n\r\n`, refuse(400)],
  ['empty', `POST / HTTP/1.1\r\n${H}Content-Length:\r\n\r\n`, refuse(400)],
  ['a decimal point', `POST / HTTP/1.1\r\n${H}Content-Length: 2.0\r\n\r\nhi`, refuse(400)],
  ['beyond 2^53 - 1 (policy: content-length-range)', `POST / HTTP/1.1\r\n${H}Content-Length: 9007199254740992\r\n\r\n`, refuse(400)],
  ['20 digits (policy: content-length-range)', `POST / HTTP/1.1\r\n${H}Content-Length: 99999999999999999999\r\n\r\n`, refuse(400)],
  ['above maxBody: 413 at once, without waiting for the body', `POST / HTTP/1.1\r\n${H}Content-Length: 11\r\n\r\n`, refuse(413), LIMIT10],
  ['exactly maxBody', `POST / HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\n0123456789`, ok({ body: '0123456789' }), LIMIT10],
  ['default maxBody (1 MiB) + 1', `POST / HTTP/1.1\r\n${H}Content-Length: 1048577\r\n\r\n`, refuse(413)],
  ['1 MiB is accepted (waits for the body)', `POST / HTTP/1.1\r\n${H}Content-Length: 1048576\r\n\r\n`, waiting()]
])

// Transfer-Encoding: RFC 9112 6.1, 6.3 and 7.

table(t, 'Transfer-Encoding', [
  ['chunked', chunked('5\r\nhello\r\n0\r\n\r\n'), ok({ body: 'hello' })],
  ['"Chunked" (codings are case-insensitive)', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: Chunked\r\n\r\n0\r\n\r\n`, ok({ body: '' })],
  ['OWS around chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding:  chunked \r\n\r\n0\r\n\r\n`, ok({ body: '' })],
  ['an empty list element (RFC 9110 5.6.1; policy: te-empty-list-element)', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked,\r\n\r\n0\r\n\r\n`, ok({ body: '' })],
  ['CL and TE together (RFC 9112 6.1: smuggling)', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\n${CHUNKED}\r\n0\r\n\r\n`, refuse(400)],
  ['TE and CL together, other order', `POST / HTTP/1.1\r\n${H}${CHUNKED}Content-Length: 0\r\n\r\n0\r\n\r\n`, refuse(400)],
  ['chunked not last (RFC 9112 6.3 item 4)', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n`, refuse(400)],
  ['gzip alone', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n`, refuse(400)],
  ['identity (no longer a transfer coding)', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\n`, refuse(400)],
  ['gzip, chunked: a coding salvo does not implement -> 501 (RFC 9112 6.1)', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, refuse(501)],
  ['chunked on two lines', `POST / HTTP/1.1\r\n${H}${CHUNKED}${CHUNKED}\r\n0\r\n\r\n`, refuse(400)],
  ['chunked on HTTP/1.0 (RFC 9112 6.1: faulty framing)', `POST / HTTP/1.0\r\n${CHUNKED}\r\n0\r\n\r\n`, refuse(400)],
  ['a TE value that only looks like chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunkedx\r\n\r\n`, refuse(400)]
])

// Chunked bodies: RFC 9112 7.1.

const LIMIT16 = { ...DEFAULTS, maxBody: 16 }
table(t, 'chunked bodies', [
  ['several chunks', chunked('3\r\nabc\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\n'), ok({ body: 'abcdef' })],
  ['no chunk at all', chunked('0\r\n\r\n'), ok({ body: '' })],
  ['upper- and lower-case hex, leading zeros', chunked('0A\r\n0123456789\r\n00b\r\nabcdefghijk\r\n000\r\n\r\n'), ok({ body: '0123456789abcdefghijk' })],
  ['chunk data holding CRLF and "0\\r\\n\\r\\n"', chunked('7\r\n0\r\n\r\nxx\r\n0\r\n\r\n'), ok({ body: '0\r\n\r\nxx' })],
  ['extensions: name, token value, quoted value with escapes', chunked('3;a\r\nabc\r\n3;b=tok\r\ndef\r\n3;c="q \\" s"\r\nghi\r\n0;last\r\n\r\n'), ok({ body: 'abcdefghi' })],
  ['BWS around ";" and "=" (policy: chunk-ext-whitespace)', chunked('3 ; a = b\r\nabc\r\n0\r\n\r\n'), ok({ body: 'abc' })],
  ['trailer fields are validated and dropped', chunked('3\r\nabc\r\n0\r\nX-Sum: 1\r\nX-Other: two words\r\n\r\n'),
    ok({ body: 'abc', headers: [['Host', 'example.com'], ['Transfer-Encoding', 'chunked']] })],
  ['the next request starts after the trailer section', chunked('1\r\na\r\n0\r\nT: v\r\n\r\n') + get('/next'), ok({ body: 'a' }, { target: '/next' })],
  ['a body cut short waits', chunked('5\r\nhel'), waiting()],
  ['a body cut after the last chunk waits', chunked('0\r\n'), waiting()],
  ['no CRLF after the data', chunked('3\r\nabcd\r\n0\r\n\r\n'), refuse(400)],
  ['data shorter than the size', chunked('4\r\nabc\r\n0\r\n\r\n'), refuse(400)],
  ['bare LF after the size', chunked('3\nabc\r\n0\r\n\r\n'), refuse(400)],
  ['bare LF after the data', chunked('3\r\nabc\n0\r\n\r\n'), refuse(400)],
  ['bare LF at the end', chunked('0\r\n\n'), refuse(400)],
  ['a non-hex size', chunked('g\r\n'), refuse(400)],
  ['an empty size', chunked('\r\nabc\r\n0\r\n\r\n'), refuse(400)],
  ['a sign before the size', chunked('+3\r\nabc\r\n0\r\n\r\n'), refuse(400)],
  ['0x before the size', chunked('0x3\r\nabc\r\n0\r\n\r\n'), refuse(400)],
  ['SP after the size without an extension', chunked('3 \r\nabc\r\n0\r\n\r\n'), refuse(400)],
  ['an extension without a name (policy: chunk-ext-syntax)', chunked('3;=v\r\nabc\r\n0\r\n\r\n'), refuse(400)],
  ['an empty extension ";;"', chunked('3;;a\r\nabc\r\n0\r\n\r\n'), refuse(400)],
  ['an unterminated quoted value', chunked('3;a="b\r\nabc\r\n0\r\n\r\n'), refuse(400)],
  ['a CTL in an extension value', chunked('3;a=\x01\r\nabc\r\n0\r\n\r\n'), refuse(400)],
  ['SP before the colon of a trailer field', chunked('0\r\nX : v\r\n\r\n'), refuse(400)],
  ['obs-fold in the trailer section', chunked('0\r\nX: v\r\n w\r\n\r\n'), refuse(400)],
  ['NUL in a trailer value', chunked('0\r\nX: a\0b\r\n\r\n'), refuse(400)],
  ['a chunk size beyond maxBody: 413 from the size line', chunked('11\r\n'), refuse(413), LIMIT16],
  ['chunks adding up beyond maxBody', chunked('8\r\n12345678\r\n9\r\n'), refuse(413), LIMIT16],
  ['exactly maxBody in chunks', chunked('8\r\n12345678\r\n8\r\nabcdefgh\r\n0\r\n\r\n'), ok({ body: '12345678abcdefgh' }), LIMIT16],
  ['a size that overflows 64 bits', chunked('fffffffffffffffffffff\r\n'), refuse(413)],
  ['many leading zeros are fine', chunked('0'.repeat(100) + '1\r\na\r\n0\r\n\r\n'), ok({ body: 'a' })]
])

// Connection persistence: RFC 9112 9.3, 9.6.

table(t, 'connection persistence', [
  ['HTTP/1.1 is persistent', get() + get('/2'), ok({ keepAlive: true }, { keepAlive: true, target: '/2' })],
  ['Connection: close ends it: the next request is not read', get('/', 'Connection: close\r\n') + get('/2'), { ...ok({ keepAlive: false }), rest: get('/2').length }],
  ['"Close" is case-insensitive', get('/', 'Connection: Close\r\n') + get('/2'), ok({ keepAlive: false })],
  ['close among other options', get('/', 'Connection: TE, close\r\n'), ok({ keepAlive: false })],
  ['close on a second Connection line', get('/', 'Connection: keep-alive\r\nConnection: close\r\n'), ok({ keepAlive: false })],
  ['HTTP/1.0 is not persistent: the next request is not read', 'GET / HTTP/1.0\r\n\r\n' + get('/2'), { ...ok({ keepAlive: false }), rest: get('/2').length }],
  ['HTTP/1.0 with keep-alive is', 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n', ok({ keepAlive: true }, { keepAlive: false, target: '/2' })],
  ['HTTP/1.0 "Keep-Alive" is case-insensitive', 'GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n', ok({ keepAlive: true })],
  ['close wins over keep-alive in HTTP/1.0 (policy: connection-close-wins)', 'GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n', ok({ keepAlive: false })],
  ['keep-alive in HTTP/1.1 changes nothing', get('/', 'Connection: keep-alive\r\n'), ok({ keepAlive: true })],
  ['Upgrade is ignored: the connection stays HTTP/1.1 (policy: upgrade-connect)', get('/ws', 'Upgrade: websocket\r\nConnection: Upgrade\r\n') + get('/2'), ok({ target: '/ws' }, { target: '/2' })],
  ['a trailer field "Connection: close" is not applied (policy: trailer-fields)', chunked('0\r\nConnection: close\r\n\r\n') + get('/2'), ok({ keepAlive: true }, { target: '/2' })]
])

// Expect: RFC 9110 10.1.1.

table(t, 'Expect', [
  ['100-continue is noted', post('abc', 'Expect: 100-continue\r\n'), ok({ expectContinue: true, body: 'abc' })],
  ['100-Continue (case-insensitive)', post('abc', 'Expect: 100-Continue\r\n'), ok({ expectContinue: true })],
  ['no Expect', post('abc'), ok({ expectContinue: false })],
  ['another expectation -> 417', post('abc', 'Expect: something\r\n'), refuse(417)],
  ['an empty Expect -> 417 (policy: expect)', post('abc', 'Expect:\r\n'), refuse(417)],
  ['100-continue and more -> 417', post('abc', 'Expect: 100-continue, x\r\n'), refuse(417)]
])

t.test('Expect: 100-continue in an HTTP/1.0 request is ignored (RFC 9110 10.1.1: MUST ignore)', async (t) => {
  const input = 'POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc'
  for (const impl of IMPLS) {
    const r = frame(input, impl)
    t.equal(r.status, 0, `${impl}: accepted`)
    t.equal(r.messages[0]?.body.toString(), 'abc', `${impl}: body`)
    t.equal(r.messages[0]?.expectContinue, false, `${impl}: expectContinue is false; repro: frameMessages(${JSON.stringify(input)})`)
  }
})

// Pipelining: RFC 9112 9.3.2.

const FIFTY = Array.from({ length: 50 }, (_, i) => get(`/p${i}`)).join('')
table(t, 'pipelining', [
  ['50 GETs in one buffer', FIFTY, ok(...Array.from({ length: 50 }, (_, i) => ({ target: `/p${i}` })))],
  ['GET, CL body, chunked body, HEAD', get('/a') + post('xyz') + chunked('2\r\nhi\r\n0\r\n\r\n') + `HEAD /h HTTP/1.1\r\n${H}\r\n`,
    ok({ target: '/a' }, { body: 'xyz' }, { body: 'hi' }, { method: 'HEAD' })],
  ['a partial request after complete ones stays unread', get('/a') + get('/b') + 'GET /c HT', { ...ok({ target: '/a' }, { target: '/b' }), rest: 9 }],
  ['a bad request after good ones: those are framed, then the error', get('/a') + get('/b') + 'GET / HTTP/1.1\nHost: a\n\n', refuse(400, 2)],
  ['nothing is read after an error', get('/a') + 'BAD\0 / HTTP/1.1\r\n\r\n' + get('/c'), refuse(400, 1)]
])

// Limits (salvo's; RFC 9110 15.5.14 and 6585 section 5): maxHeaders,
// maxHeaderBytes (the whole head, request line and CRLFs included).

const headOf = (size) => {
  const base = `GET / HTTP/1.1\r\n${H}X-Pad: \r\n\r\n`
  return `GET / HTTP/1.1\r\n${H}X-Pad: ${'p'.repeat(size - base.length)}\r\n\r\n`
}
table(t, 'limits', [
  ['maxHeaders fields', `GET / HTTP/1.1\r\n${H}${fields(3)}\r\n`, ok({}), { ...DEFAULTS, maxHeaders: 4 }],
  ['maxHeaders + 1 fields -> 431', `GET / HTTP/1.1\r\n${H}${fields(4)}\r\n`, refuse(431), { ...DEFAULTS, maxHeaders: 4 }],
  // node:http accepts 100 custom fields plus Host; so does salvo's default (maxHeaders 2000).
  ['101 fields by default (100 custom + Host)', `GET / HTTP/1.1\r\n${H}${fields(100)}\r\n`, ok({})],
  ['2001 fields by default -> 431', `GET / HTTP/1.1\r\n${H}${fields(2000)}\r\n`, refuse(431), { ...DEFAULTS, maxHeaderBytes: 64 * 1024 }],
  ['a head of exactly maxHeaderBytes', headOf(1024), ok({ headLen: 1024 }), { ...DEFAULTS, maxHeaderBytes: 1024 }],
  ['one byte more -> 431', headOf(1025), refuse(431), { ...DEFAULTS, maxHeaderBytes: 1024 }],
  ['an unfinished head past maxHeaderBytes -> 431 without waiting for its end', `GET / HTTP/1.1\r\n${H}X: ${'p'.repeat(2000)}`, refuse(431), { ...DEFAULTS, maxHeaderBytes: 1024 }],
  ['an unfinished head within maxHeaderBytes waits', `GET / HTTP/1.1\r\n${H}X: ${'p'.repeat(900)}`, waiting(), { ...DEFAULTS, maxHeaderBytes: 1024 }],
  ['the limits apply per message in a pipeline', headOf(1000) + headOf(1000), ok({}, {}), { ...DEFAULTS, maxHeaderBytes: 1024 }]
])

// ---------------------------------------------------------------------------
// Fragmentation: the connection re-runs the framing loop on what is buffered
// each time bytes arrive.  For every split of an input into two reads, and
// for one byte per read, that must give exactly what the whole input gives;
// and a valid input's every strict prefix must be "incomplete", never an
// error.

/** Run the input through frameMessages as reads `pieces`, the way the connection does. */
function feed (impl, pieces, limits = DEFAULTS) {
  let pending = Buffer.alloc(0)
  const messages = []
  let status = 0
  let stopped = false
  for (const piece of pieces) {
    if (stopped) break
    pending = Buffer.concat([pending, piece])
    const r = frame(pending, impl, limits)
    messages.push(...r.messages)
    if (r.status) {
      status = r.status
      break
    }
    if (r.messages.length && !r.messages.at(-1).keepAlive) stopped = true
    pending = pending.subarray(pending.length - r.rest)
  }
  // After an error or a last request the connection reads nothing more, so
  // how many bytes were left depends on the reads: not compared then.
  const rest = status || stopped ? null : pending.length
  return { status, messages: messages.map((m) => [m.method, m.target, m.body.toString('latin1'), m.keepAlive]), rest }
}

const FRAGMENT_INPUTS = [
  ['GET + CL body + chunked body with extensions and trailers',
    get('/a?b=c', 'Accept: */*\r\n') + post('body\r\nbytes') + chunked('4;x=y\r\nabcd\r\n3;q="a b"\r\nefg\r\n0\r\nT: 1\r\n\r\n') + get('/z')],
  ['HTTP/1.0 keep-alive, then close', 'GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' + get('/c', 'Connection: close\r\n') + get('/never')],
  ['a bad request in the middle (bare LF in a field)', get('/ok') + `GET /bad HTTP/1.1\r\n${H}X: a\nY: b\r\n\r\n` + get('/never')],
  ['CL + TE in the second request', get('/ok') + `POST / HTTP/1.1\r\n${H}Content-Length: 1\r\n${CHUNKED}\r\n0\r\n\r\n`],
  ['a bad chunk in the second request', post('xy') + chunked('2\r\nabc\r\n0\r\n\r\n')]
]

t.test('fragmentation at every byte boundary', async (t) => {
  for (const [name, text] of FRAGMENT_INPUTS) {
    const input = Buffer.from(text, 'latin1')
    for (const impl of IMPLS) {
      const whole = feed(impl, [input])
      const bad = []
      for (let cut = 1; cut < input.length; cut++) {
        const got = feed(impl, [input.subarray(0, cut), input.subarray(cut)])
        if (JSON.stringify(got) !== JSON.stringify(whole)) bad.push({ cut, got })
      }
      t.same(bad.slice(0, 3), [], `${name} (${impl}): all ${input.length - 1} two-read splits give the whole-input result`)
      const bytes = Array.from(input, (_, i) => input.subarray(i, i + 1))
      t.same(feed(impl, bytes), whole, `${name} (${impl}): one byte per read gives the same`)
    }
  }
  // Every strict prefix of a valid input is incomplete: never an error.
  const valid = Buffer.from(FRAGMENT_INPUTS[0][1], 'latin1')
  for (const impl of IMPLS) {
    const errors = []
    for (let n = 0; n < valid.length; n++) {
      const r = frame(valid.subarray(0, n), impl)
      if (r.status !== 0) errors.push({ n, status: r.status })
    }
    t.same(errors, [], `${impl}: no prefix of a valid pipeline is refused`)
  }
})
