const { compileShapeWriter } = require('./dist/shape-writer.js')
const w = compileShapeWriter({ type: 'object', properties: { message: { type: 'string' } } })
const buf = Buffer.allocUnsafeSlow(65536)
function run(N, s) { let x = 0; for (let i = 0; i < N; i++) { const o = { message: s }; w.read(o); x += w.emit(buf, 100 + (i & 1023)) } return x }
run(3e6, 'Hello, World!')
