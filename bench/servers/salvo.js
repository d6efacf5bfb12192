'use strict'
// The product: salvo hello world, loaded from the package root (dist/).
let salvo
try {
  salvo = require('../..')
} catch (err) {
  if (err.code !== 'MODULE_NOT_FOUND') throw err
  console.error(`Error: salvo is not built (${err.message.split('\n')[0]}): run 'npm run build' first`)
  process.exit(1)
}
const { App } = salvo

const app = new App()
app.get('/', () => 'Hello world!')
app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' }).then((s) => console.log('listening ' + s.port))
