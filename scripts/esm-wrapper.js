// Writes dist/index.mjs so that `import { App } from 'salvo'` works next to
// `require('salvo')`: one implementation (CommonJS), two entry points.
'use strict';
const fs = require('fs');
const path = require('path');
const dist = path.join(__dirname, '..', 'dist');
const names = Object.keys(require(path.join(dist, 'index.js'))).filter((n) => n !== 'default' && n !== '__esModule');
const lines = ["import salvo from './index.js';", ...names.map((n) => `export const ${n} = salvo.${n};`), 'export default salvo;', ''];
fs.writeFileSync(path.join(dist, 'index.mjs'), lines.join('\n'));
