// Starting a salvo app for the tests: the built package (dist/, CommonJS) on 127.0.0.1, port 0.

import { createRequire } from 'node:module'
import { createHash } from 'node:crypto'
import { withTimeout } from './raw-client.mjs'

const require = createRequire(import.meta.url)

export function loadSalvo () {
  return require('../../dist/index.js')
}

export const sha256 = (buf) => createHash('sha256').update(buf).digest('hex')

export const STATIC_ROUTES = 24

/**
 * The routes most tests use:
 *   GET  /            -> 'Hello world!'
 *   GET  /q           -> req.url (so '/q?i=5' answers '/q?i=5')
 *   GET  /n/0../n/23  -> 'n=<i>'
 *   POST /echo        -> 'len=<body length>'
 *   POST /body        -> '<isBuffer>:<length>:<sha256 hex of the body>'
 *   GET|POST /info    -> JSON of method, url, path, httpVersion, headers, body length
 */
export function installRoutes (app) {
  app.get('/', () => 'Hello world!')
  app.get('/q', (req) => req.url)
  for (let i = 0; i < STATIC_ROUTES; i++) {
    const body = `n=${i}`
    app.get(`/n/${i}`, () => body)
  }
  app.post('/echo', (req) => `len=${req.body.length}`)
  app.post('/body', (req) => `${Buffer.isBuffer(req.body)}:${req.body.length}:${sha256(req.body)}`)
  const info = (req) => JSON.stringify({
    method: req.method,
    url: req.url,
    path: req.path,
    httpVersion: req.httpVersion,
    headers: req.headers,
    isBuffer: Buffer.isBuffer(req.body),
    bodyLength: req.body.length
  })
  app.get('/info', info)
  app.post('/info', info)
}

/** What POST /body answers for `body`. */
export const bodyDigest = (body) => `true:${body.length}:${sha256(body)}`

/**
 * Start an app configured by `setup(app)` (default: installRoutes) and register a
 * teardown that closes it (bounded). Resolves { app, server, port }.
 */
export async function startApp (t, setup = installRoutes) {
  const { App } = loadSalvo()
  const app = new App()
  await setup(app)
  const server = await withTimeout(app.listen({ port: 0, host: '127.0.0.1' }), 10_000, 'app.listen()')
  if (!Number.isInteger(server.port) || server.port <= 0) {
    throw new Error(`server.port is not a port number: ${server.port}`)
  }
  t.teardown(() => withTimeout(Promise.resolve(server.close()), 10_000, 'server.close()').catch(() => {}))
  return { app, server, port: server.port }
}
