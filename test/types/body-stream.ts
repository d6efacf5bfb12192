// Type test: bodyStream routes and req.stream() (compiled by test/api-types.test.mjs).
import type { Readable } from 'node:stream'
import { App } from '../../dist/index'

const app = new App()
app.post('/up', { bodyStream: true, bodyLimit: 2 ** 40 }, async (req) => {
  const s: Readable = req.stream()
  let n = 0
  for await (const chunk of s) n += (chunk as Buffer).length
  return { n }
})
// @ts-expect-error bodyStream is a boolean
app.post('/x', { bodyStream: 'yes' }, () => 'x')
