// Request text for the conformance tests: a Host line, and GET / POST / chunked requests built on it.

export const H = 'Host: example.com\r\n'
export const CHUNKED = 'Transfer-Encoding: chunked\r\n'
export const get = (target = '/', extra = '', version = '1.1') => `GET ${target} HTTP/${version}\r\n${H}${extra}\r\n`
export const post = (body, extra = '', target = '/') =>
  `POST ${target} HTTP/1.1\r\n${H}Content-Length: ${Buffer.byteLength(body, 'latin1')}\r\n${extra}\r\n${body}`
export const chunked = (encoded, extra = '') => `POST / HTTP/1.1\r\n${H}${CHUNKED}${extra}\r\n${encoded}`
/** `n` distinct header field lines. */
export const fields = (n) => Array.from({ length: n }, (_, i) => `X-${i}: ${i}\r\n`).join('')
