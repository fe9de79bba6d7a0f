#!/usr/bin/env node
'use strict';
// CommonJS (see bin/package.json): an ES module entry would start Node's ESM loader, ~10 ms on every run.
//
// Compiling the 0.3 MB bundle is most of okta-connect's own start-up, so it is compiled from a code cache kept in a
// private folder under the system's temporary folder. Node 22.1+ has one of its own (module.enableCompileCache), which
// checks the source and the cache against their checksums; Node 20 has none, so this does the same by hand (below).
const fs = require('node:fs');
// The CommonJS loader's own class: the same as require('node:module'), whose public module (~1.5 ms) is not loaded.
const Module = module.constructor;
const os = require('node:os');
const path = require('node:path');

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
  // Only a real folder of ours that nobody else can write: the cache is code this process will run. Windows has no
  // such mode bits (every folder looks writable); its temporary folder is the user's own (%LOCALAPPDATA%\Temp).
  const info = fs.lstatSync(dir);
  if (!info.isDirectory()) return undefined;
  if (process.platform !== 'win32' && ((uid !== undefined && info.uid !== uid) || (info.mode & 0o022) !== 0)) return undefined;
  return dir;
}

// The hand-made cache file: MAGIC, the CRC-32 of the source, the CRC-32 of the payload, then V8's cached data (the
// payload). V8 itself checks only that cached data fits this V8 build and a source of that length: one flipped byte in
// it crashes the process (SIGSEGV or a V8 fatal error), and a same-length source runs the old code. So both checksums
// are checked before V8 sees anything, the file is named after the source's checksum too, and any doubt means
// compiling afresh. CRC-32 as in Node's own compile cache: it guards against corruption and edits, not an attacker
// (who could write dist/cli.js anyway); zlib costs ~1.5 ms to load at start-up, node:crypto for SHA-256 ~2.7 ms.
// Then one byte: how many runs have renewed the cache (below).
const MAGIC = Buffer.from('okta-connect code cache 2\n');
const HEADER = MAGIC.length + 9;

function readCache(crc32, file, sourceCrc) {
  let data;
  try {
    data = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  if (data.length <= HEADER || !data.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  if (data.readUInt32BE(MAGIC.length) !== sourceCrc) return undefined;
  const payload = data.subarray(HEADER);
  return data.readUInt32BE(MAGIC.length + 4) === crc32(payload) ? { payload, renewals: data[MAGIC.length + 8] } : undefined;
}

/** Written whole or not at all: a temporary file, flushed to disk, then renamed over the old one. */
function writeCache(crc32, file, sourceCrc, payload, renewals) {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    const header = Buffer.alloc(HEADER);
    MAGIC.copy(header);
    header.writeUInt32BE(sourceCrc, MAGIC.length);
    header.writeUInt32BE(crc32(payload), MAGIC.length + 4);
    header[MAGIC.length + 8] = renewals;
    const fd = fs.openSync(temp, 'w', 0o600);
    try {
      fs.writeFileSync(fd, Buffer.concat([header, payload]));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  } catch {
    // A cache is an optimisation: any failure just means compiling next time too.
    fs.rmSync(temp, { force: true });
  }
}

/**
 * The commands scripts run often get a cache each, made by a run of that command, so that it holds the functions that
 * command compiles (one cache made by `--help` held none of list's: list measured ~6% slower with it). Every other
 * command line shares one. A fixed set, so that the folder holds a few files whatever is typed.
 */
const OWN_CACHE = new Map([['list', 'list'], ['ls', 'list'], ['test', 'test'], ['token', 'token'], ['exec', 'exec'], ['__names', 'names']]);

/** The command word: the first argument that is not a flag (the global flags come before it). */
function cacheKind() {
  const word = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
  return (word !== undefined && OWN_CACHE.get(word)) || 'main';
}

/** Node 20: compile the bundle with vm.Script and the cached data of the last run, checked first. */
function runWithHandMadeCache(dir) {
  const { crc32 } = require('node:zlib');
  const { isAscii } = require('node:buffer');
  const vm = require('node:vm');
  const source = fs.readFileSync(bundle);
  // zlib.crc32 is in Node 20.15+; on anything older (outside `engines`) there is just no cache.
  const sourceCrc = typeof crc32 === 'function' ? crc32(source) : undefined;
  const cacheFile = dir && sourceCrc !== undefined && path.join(dir, `cli-${sourceCrc.toString(16)}-${source.length}-${process.version}-${process.arch}-${cacheKind()}.bin`);
  const cached = cacheFile ? readCache(crc32, cacheFile, sourceCrc) : undefined;
  const cachedData = cached?.payload;
  // esbuild writes pure ASCII (non-ASCII is escaped), which decodes to the same string as latin1, and faster.
  const text = typeof isAscii === 'function' && isAscii(source) ? source.toString('latin1') : source.toString('utf8');
  const script = new vm.Script(Module.wrap(text), { filename: bundle, cachedData });
  const mod = new Module(bundle, module);
  mod.filename = bundle;
  const localRequire = Module.createRequire(bundle);
  script.runInThisContext().call(mod.exports, mod.exports, localRequire, mod, bundle, path.dirname(bundle));
  if (!cacheFile) return;
  if (cachedData === undefined || script.cachedDataRejected) {
    // After the run has started, so the functions it compiled are in the cache too.
    setImmediate(() => {
      writeCache(crc32, cacheFile, sourceCrc, script.createCachedData(), 0);
    });
  } else if (cached.renewals < RENEWALS) {
    // The cache holds what its first run compiled, and a first run is often not a typical one (a new user's list of no
    // connections held a third fewer functions than a list of 50, which then ran ~9% slower from it). So the next few
    // runs that end well, at their end, keep the cache that holds more; then it stays as it is.
    process.once('exit', (code) => {
      if (code !== 0) return;
      const renewed = script.createCachedData();
      writeCache(crc32, cacheFile, sourceCrc, renewed.length > cachedData.length ? renewed : cachedData, cached.renewals + 1);
    });
  }
}

/** How many runs after the first may renew a command's cache. */
const RENEWALS = 3;

function run() {
  let dir;
  try {
    dir = cacheFolder();
  } catch {
    dir = undefined;
  }
  if (typeof Module.enableCompileCache !== 'function') {
    runWithHandMadeCache(dir);
    return;
  }
  // Node 22.1+: its own cache, in the same private folder.
  if (dir) Module.enableCompileCache(dir);
  require(bundle);
}

run();
