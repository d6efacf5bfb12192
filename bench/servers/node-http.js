'use strict'
// Baseline: node:http with the same routes as salvo.js, and the headers every
// peer sends (Content-Type, and Content-Length unless streamed); node adds
// Date and Connection itself (and Transfer-Encoding: chunked when streaming).
// The async routes are what a minimal framework on node:http does: call the
// handler, send what its promise resolves to.
const http = require('node:http')

const BODY = 'Hello world!'
const HEADERS = {
  'Content-Type': 'text/plain; charset=utf-8',
  'Content-Length': Buffer.byteLength(BODY)
}
const STREAM_HEADERS = { 'Content-Type': 'text/plain; charset=utf-8' }

const asyncHello = async () => BODY
const immediateHello = () => new Promise((resolve) => setImmediate(() => resolve(BODY)))

function hello (res, body) {
  res.writeHead(200, HEADERS)
  res.end(body)
}

const server = http.createServer((req, res) => {
  switch (req.url) {
    case '/':
      return hello(res, BODY)
    case '/async':
      return void asyncHello().then((body) => hello(res, body))
    case '/immediate':
      return void immediateHello().then((body) => hello(res, body))
    case '/stream':
      res.writeHead(200, STREAM_HEADERS)
      for (let i = 0; i < 100; i++) res.write('chunk ' + i + '\n')
      return void res.end()
    default:
      res.writeHead(404, { 'Content-Length': 0 })
      res.end()
  }
})
server.listen(Number(process.env.PORT), '127.0.0.1', () => {
  console.log('listening ' + server.address().port)
})
