#!/usr/bin/env node
'use strict';
// CommonJS (see bin/package.json): an ES module entry would start Node's ESM loader, ~10 ms on every run.
//
// Compiling the 0.3 MB bundle is most of okta-connect's own start-up. Node 22 can keep a V8 code cache
// (module.enableCompileCache); Node 20 cannot, so this does the same by hand: the bundle is compiled with the cached
// code of the last run, kept in a private folder under the system's temporary folder (where Node 22 keeps its own).
// V8 checks that the cache fits this V8 build, and rejects it otherwise: then it is made again. V8 does not check the
// source's content, so the cache file is named after the bundle's identity (inode, size, mtime) and Node's version.
const fs = require('node:fs');
const Module = require('node:module');
const os = require('node:os');
const path = require('node:path');
const vm = require('node:vm');

const bundle = path.join(__dirname, '..', 'dist', 'cli.js');

function cacheFolder() {
  if (process.env.OKTA_CONNECT_NO_COMPILE_CACHE) return undefined;
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const dir = path.join(os.tmpdir(), `okta-connect-compile-cache-${uid ?? os.userInfo().username}`);
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if (error.code !== 'EEXIST') return undefined;
  }
  // Only a real folder of ours that nobody else can write: the cache is code this process will run.
  const info = fs.lstatSync(dir);
  if (!info.isDirectory() || (uid !== undefined && info.uid !== uid) || (info.mode & 0o022) !== 0) return undefined;
  return dir;
}

function run() {
  const source = fs.readFileSync(bundle, 'utf8');
  const file = fs.statSync(bundle);
  let dir;
  try {
    dir = cacheFolder();
  } catch {
    dir = undefined;
  }
  const key = [file.ino, file.size, Math.round(file.mtimeMs), process.version, process.arch].join('-');
  const cacheFile = dir && path.join(dir, `cli-${key}.bin`);
  let cachedData;
  try {
    if (cacheFile) cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData });
  const mod = new Module(bundle, module);
  mod.filename = bundle;
  const localRequire = Module.createRequire(bundle);
  script.runInThisContext().call(mod.exports, mod.exports, localRequire, mod, bundle, path.dirname(bundle));
  if (cacheFile && (cachedData === undefined || script.cachedDataRejected)) {
    // After the run has started, so the functions it compiled are in the cache too; written whole or not at all.
    setImmediate(() => {
      try {
        const temp = `${cacheFile}.${process.pid}.tmp`;
        fs.writeFileSync(temp, script.createCachedData(), { mode: 0o600 });
        fs.renameSync(temp, cacheFile);
      } catch {
        // A cache is an optimisation: any failure just means compiling next time too.
      }
    });
  }
}

run();
