#!/usr/bin/env node
// The mayfly command. A committed shim, so that npm links the bin at install time, before the
// TypeScript is built; the command itself is dist/main.js (npm run build).
import('../dist/main.js').catch((error) => {
  process.stderr.write(`mayfly: ${error.code === 'ERR_MODULE_NOT_FOUND' ? 'not built yet: run npm run build' : error.message}\n`);
  process.exit(1);
});
