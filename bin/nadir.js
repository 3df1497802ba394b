#!/usr/bin/env node
// The `nadir` command: the compiled CLI bundled into one module
// (dist/cli/nadir.js, built by `npm run build`, which `npm ci` runs through
// `prepare`).
import "../dist/cli/nadir.js";
