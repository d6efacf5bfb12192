'use strict'
// The app each cluster() worker thread of bench/workers.js builds (module
// form: every worker require()s this file): the sync hello route of
// servers/salvo.js, nothing else, so that 1 and N workers run the same code.
const { App } = require('./load-salvo')

module.exports = () => new App().get('/', () => 'Hello world!')
