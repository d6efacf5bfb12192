'use strict'
// Baseline: node:http hello world with the headers every peer sends
// (Content-Type, Content-Length); node adds Date and Connection itself.
const http = require('node:http')

const BODY = 'Hello world!'
const HEADERS = {
  'Content-Type': 'text/plain; charset=utf-8',
  'Content-Length': Buffer.byteLength(BODY)
}

const server = http.createServer((req, res) => {
  res.writeHead(200, HEADERS)
  res.end(BODY)
})
server.listen(Number(process.env.PORT), '127.0.0.1', () => {
  console.log('listening ' + server.address().port)
})
