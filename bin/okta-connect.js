#!/usr/bin/env node
'use strict';
// CommonJS (see bin/package.json): an ES module entry would start Node's ESM loader, ~10 ms on every run.
require('../dist/cli.js');
