#!/usr/bin/env node
// The `alphanet` command: runs the built CLI (`npm run build` writes out/main/cli.js).
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const cli = join(__dirname, '..', 'out', 'main', 'cli.js');
if (!existsSync(cli)) {
  console.error(`alphanet: ${cli} is missing; run \`npm run build\` in ${join(__dirname, '..')} first.`);
  process.exit(2);
}
require(cli);
