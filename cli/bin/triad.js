#!/usr/bin/env node
// The `triad` command. This file is committed so that `npm install` links it before `npm run build` makes dist/.
try {
  await import('../dist/triad.js');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist/triad.js')) throw err;
  console.error('triad: the project is not built yet; run `npm run build` first');
  process.exit(2);
}
