'use strict'
// Realistic request heads shared by the parser micro-benchmark and the parser
// tests: a browser-like GET with 12 fields (~560 bytes) and an API POST head.

const BROWSER_GET =
  'GET /articles/2024/http-parsing?lang=en&ref=home HTTP/1.1\r\n' +
  'Host: www.example.com\r\n' +
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n' +
  'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n' +
  'Accept-Language: en-US,en;q=0.9\r\n' +
  'Accept-Encoding: gzip, deflate, br\r\n' +
  'Connection: keep-alive\r\n' +
  'Cookie: session=3f9a8c7e6d5b4a39; theme=dark\r\n' +
  'Upgrade-Insecure-Requests: 1\r\n' +
  'Sec-Fetch-Dest: document\r\n' +
  'Sec-Fetch-Mode: navigate\r\n' +
  'Sec-Fetch-Site: none\r\n' +
  'Cache-Control: max-age=0\r\n' +
  '\r\n'

const POST_HEAD =
  'POST /api/v1/items HTTP/1.1\r\n' +
  'Host: api.example.com\r\n' +
  'Content-Type: application/json; charset=utf-8\r\n' +
  'Content-Length: 27\r\n' +
  '\r\n'

module.exports = { BROWSER_GET, POST_HEAD }
