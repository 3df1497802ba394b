#!/usr/bin/env node
// The `nadir` command: the compiled CLI (dist/, built by `npm run build`,
// which `npm ci` runs through `prepare`).
import "../dist/cli/bin.js";
