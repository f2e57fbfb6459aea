#!/usr/bin/env node
'use strict';
// The CLI runs the compiled JavaScript in dist/ (built by `npm install` through the
// `prepare` script) so that start-up does not pay for compiling TypeScript.
let main;
try {
  ({ main } = require('../dist/cli/index.js'));
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND') {
    process.stderr.write('wsscope: not built yet: run `npm install` (or `npm run build`) first\n');
    process.exit(1);
  }
  throw err;
}
main(process.argv.slice(2));
