// Node's own HTTP/1.1 parser (llhttp, through the internal `_http_common`
// binding) run over a byte string, returning the same shape the differential
// test gets from salvo's addon.frameMessages():
//
//   llhttpFrame(buf, { lenient }) -> {
//     accepted:  true unless llhttp reported a parse error (HPE_*), with the
//                one exception of HPE_CLOSED_CONNECTION (see `stopped`),
//     error:     null | { code: 'HPE_...', reason, offset }  (offset = the
//                byte llhttp refused, 0-based),
//     messages:  [{ method, methodIndex, url, versionMajor, versionMinor, headers: [[name, value]],
//                   trailers: [[name, value]], body: Buffer, start, end,
//                   keepAlive, upgrade }],   start/end: byte offsets in buf,
//     stopped:   null | 'closed'  (data after a message that was not keep-alive:
//                                  llhttp refuses it with HPE_CLOSED_CONNECTION)
//                     | 'upgrade' (CONNECT, or Upgrade + Connection: upgrade:
//                                  llhttp hands the rest of the stream over),
//     stopOffset: where parsing stopped for `stopped`,
//     partial:   bytes of a message that had started but not completed when the
//                input ended (0 when the input ended on a message boundary),
//     partialHead: null | { major, minor, method, upgrade, keepAlive } of that
//                message when its head was complete,
//   }
//
// How the end of each message is found (the binding does not tell where in a
// buffer on_message_complete fired, and its kOnBody hands out copies, not
// offsets): the input is fed to execute() ONE BYTE AT A TIME.  llhttp is a
// streaming state machine whose on_message_complete fires while the last byte
// of the message is being consumed, never later (it cannot wait for a byte
// that might not come: a request without a body completes on the LF of the
// blank line, a Content-Length body on its last byte, a chunked body on the
// LF after the trailer section).  So when message k completes during the
// execute() of byte i, message k ends at offset i + 1 exactly.  The same byte
// at a time gives the offset of a parse error (the piece that execute()
// refused).  An upgrade (CONNECT, or Upgrade with Connection: upgrade) ends
// parsing after its message: that is read from the message's upgrade flag,
// because the binding hides the pause when it falls on the end of a piece
// (see llhttpFrame).  llhttp's results do not depend on how the input is split (it
// keeps all state between calls, and the binding joins split URL and header
// spans); `llhttpFrameWhole` parses the same input in one execute() call so
// that the differential test can check all of this on every input it sees:
// same messages, same error code, and the same stopping offset for errors
// and upgrades.  One offset does depend on the split: HPE_HEADER_OVERFLOW,
// because Node's binding counts header bytes when llhttp hands it a span,
// and a span ends at the end of each piece; byte at a time reports it on
// the first byte past the limit, one execute() at the end of that field.
//
// parser.finish() is not called: input that ends inside a message is
// "incomplete" here, as for salvo (finish() would report HPE_INVALID_EOF_STATE,
// which is what a peer closing mid-request means, not a parse error).
//
// Strictness: the parser is initialized exactly as Node's http server does by
// default (no lenient flags: insecureHTTPParser off), with Node's default
// header size limit (16 KiB, counted by the binding over the URL, field names
// and values only).

import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { HTTPParser, methods } = require('_http_common')

export const LLHTTP_VERSION = process.versions.llhttp

const CR = 13
const LF = 10

/** The method as written on the wire: llhttp's enum index maps through
 * `methods` only for the HTTP methods Node exports; for the rest (e.g. QUERY)
 * read it back from the bytes of the message (after the empty lines llhttp
 * skips). */
function methodAt (buf, start, index) {
  if (index >= 0 && index < methods.length) return methods[index]
  let i = start
  while (i < buf.length && (buf[i] === CR || buf[i] === LF)) i++
  const sp = buf.indexOf(0x20, i)
  return buf.toString('latin1', i, sp < 0 ? buf.length : sp)
}

function pairs (flat) {
  const out = []
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i], flat[i + 1]])
  return out
}

function newParser (state, lenient) {
  const p = new HTTPParser()
  // initialize(type, resource, maxHeaderSize, lenientFlags): 0 = Node's default
  // (the --max-http-header-size value, 16 KiB), lenient flags as given.
  p.initialize(HTTPParser.REQUEST, {}, 0, lenient ? HTTPParser.kLenientAll : HTTPParser.kLenientNone)
  // Headers are handed over in kOnHeaders when more than 32 fields arrive (and
  // trailers always come that way); the rest come with kOnHeadersComplete.
  p[HTTPParser.kOnHeaders] = (headers, url) => {
    if (state.inBody) state.trailers.push(...headers)
    else {
      state.headers.push(...headers)
      if (url) state.url += url
    }
  }
  p[HTTPParser.kOnHeadersComplete] = (major, minor, headers, method, url, _sc, _sm, upgrade, keepAlive) => {
    if (headers) state.headers.push(...headers)
    if (url) state.url += url
    state.head = { major, minor, method, upgrade: !!upgrade, keepAlive: !!keepAlive }
    state.inBody = true
    // The return value matters: 0 = parse the body, 1 = skip it (a response to
    // HEAD), 2 = upgrade.  Always 0 for requests.
    return 0
  }
  p[HTTPParser.kOnBody] = (chunk) => { state.body.push(Buffer.from(chunk)) }
  p[HTTPParser.kOnMessageComplete] = () => { state.completed++ }
  return p
}

function freshState () {
  return { headers: [], trailers: [], url: '', body: [], head: null, inBody: false, completed: 0 }
}

function takeMessage (buf, state, start, end) {
  const h = state.head
  const m = {
    method: methodAt(buf, start, h.method),
    methodIndex: h.method,
    url: state.url,
    versionMajor: h.major,
    versionMinor: h.minor,
    headers: pairs(state.headers),
    trailers: pairs(state.trailers),
    body: Buffer.concat(state.body),
    start,
    end,
    keepAlive: h.keepAlive,
    upgrade: h.upgrade
  }
  state.headers = []
  state.trailers = []
  state.url = ''
  state.body = []
  state.head = null
  state.inBody = false
  return m
}

/** Byte-at-a-time run: see the comment at the top. */
export function llhttpFrame (input, { lenient = false } = {}) {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input, 'latin1')
  const state = freshState()
  const parser = newParser(state, lenient)
  const messages = []
  let start = 0
  let error = null
  let stopped = null
  let stopOffset = -1
  let i = 0
  try {
    for (; i < buf.length; i++) {
      const before = state.completed
      const r = parser.execute(buf.subarray(i, i + 1))
      if (state.completed > before) {
        if (state.completed !== before + 1) throw new Error('two messages completed on one byte')
        const m = takeMessage(buf, state, start, i + 1)
        messages.push(m)
        start = i + 1
        if (m.upgrade) {
          // llhttp pauses (HPE_PAUSED_UPGRADE) right after such a message;
          // the binding turns that into "bytes parsed so far", which here is
          // the whole one-byte piece, and resumes the parser, so the pause
          // cannot be seen in execute()'s result: stop on the flag instead.
          // (With the whole input in one call, execute() returns this offset:
          // llhttpFrameWhole's `consumed`, checked by the differential test.)
          stopped = 'upgrade'
          stopOffset = i + 1
          break
        }
      }
      if (r instanceof Error) {
        if (r.code === 'HPE_CLOSED_CONNECTION') {
          stopped = 'closed'
          stopOffset = i
        } else {
          error = { code: r.code, reason: r.reason, offset: i }
        }
        break
      }
      if (r === 0) {
        // The byte was not taken and there was no error: llhttp paused for an
        // upgrade in the middle of a message (it does this, for one, when the
        // last chunk of an Upgrade request's chunked body has an extension)
        // and the binding reported the bytes before the pause.
        stopped = 'upgrade'
        stopOffset = i
        break
      }
      if (r !== 1) throw new Error(`execute() took ${r} of 1 byte at offset ${i}`)
    }
  } finally {
    parser.close()
  }
  // Bytes of a started message that did not complete (CR/LF between messages
  // that llhttp skips count as started: salvo rejects them, see PROTOCOL.md).
  const partial = error || stopped ? 0 : buf.length - start
  // The head of that unfinished message, if llhttp got through it.
  const partialHead = partial && state.head ? { ...state.head } : null
  return { accepted: error === null, error, messages, stopped, stopOffset, partial, partialHead }
}

/** The same parse in one execute() call: messages (without offsets; compare
 * methodIndex, not method), the error code, and the bytes execute() took. */
export function llhttpFrameWhole (input, { lenient = false } = {}) {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input, 'latin1')
  const state = freshState()
  const parser = newParser(state, lenient)
  const messages = []
  const origComplete = parser[HTTPParser.kOnMessageComplete]
  parser[HTTPParser.kOnMessageComplete] = () => {
    origComplete()
    messages.push(takeMessage(buf, state, 0, -1))
  }
  let code = null
  let consumed = buf.length
  try {
    const r = parser.execute(buf)
    if (r instanceof Error) {
      code = r.code
      consumed = r.bytesParsed
    } else {
      consumed = r // less than buf.length only when it stopped for an upgrade
    }
  } finally {
    parser.close()
  }
  return { code, messages, consumed }
}
