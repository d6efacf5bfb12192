// Type test: the logging options and req.log / req.id (compiled by test/api-types.test.mjs).
import pino from 'pino'
import { App, type Logger } from '../../dist/index'

const withInstance = new App({ logger: pino({ level: 'info' }), requestIdHeader: 'x-request-id', genReqId: (req) => req.method + '-1' })
const withOptions = new App({ logger: { level: 'debug' }, requestIdLogLabel: 'requestId', disableRequestLogging: true, requestTimeout: 0 })
const off = new App({ logger: false })
const l: Logger = off.log
l.info({ a: 1 }, 'x')
withInstance.get('/', { timeout: 5000 }, (req) => {
  const id: string = req.id
  req.log.info({ id }, 'in handler')
  const child: Logger = req.log.child({ part: 'db' })
  child.debug('x')
  return id
})
void withOptions
// @ts-expect-error a route timeout is a number
off.get('/x', { timeout: '5s' }, () => 'x')
// @ts-expect-error genReqId returns a string
void new App({ genReqId: () => 1 })
