import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../fixtures/fake-okta.js';
import { BIN, disposeSandbox, isAlive, makeSandbox, uniqueName, waitFor, type Sandbox } from './harness.js';

/**
 * exec and signals as a terminal delivers them: Ctrl-C and Ctrl-\ go to the whole foreground process group (okta-connect
 * and its child), so passing them on again would be a second interrupt; other signals reach okta-connect alone and
 * must be passed on, and none may kill okta-connect and leave the child orphaned.
 */

/**
 * The child: writes its pid to `ready`, records every signal it gets in `got` (one a line) and keeps running; after its
 * first SIGINT or SIGQUIT it waits 1.5 s (time for a second one to arrive) and exits 40 + the number it got. It exits 0
 * when `finish` appears, and 43 on SIGTERM.
 */
const CHILD = `
const fs = require('node:fs');
const dir = process.argv[2];
let interrupts = 0;
const record = (signal) => fs.appendFileSync(dir + '/got', signal + '\\n');
for (const signal of ['SIGINT', 'SIGQUIT']) {
  process.on(signal, () => {
    record(signal);
    interrupts += 1;
    if (interrupts === 1) setTimeout(() => process.exit(40 + interrupts), 1500);
  });
}
for (const signal of ['SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGHUP']) process.on(signal, () => record(signal));
process.on('SIGTERM', () => { record('SIGTERM'); process.exit(43); });
fs.writeFileSync(dir + '/ready', String(process.pid));
setInterval(() => { if (fs.existsSync(dir + '/finish')) process.exit(0); }, 50);
`;

let sandbox: Sandbox;
let script: string;
let env: Record<string, string>;
const name = uniqueName('sig');

beforeAll(() => {
  sandbox = makeSandbox();
  script = join(sandbox.cwd, 'child.cjs');
  writeFileSync(script, CHILD);
  // An environment-only connection: exec needs no keychain and no Okta for it.
  const key = name.toUpperCase().replace(/-/g, '_');
  env = { ...sandbox.env, [`OKTA_CONNECT_${key}_TOKEN`]: generateToken(), [`OKTA_CONNECT_${key}_ORG_URL`]: 'https://acme.okta.com' };
});
afterAll(() => {
  disposeSandbox(sandbox);
});


interface Session {
  proc: ChildProcess;
  dir: string;
  childPid: number;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  got: () => string[];
}

/** okta-connect exec as the leader of its own process group (as a shell runs a foreground job), the child inside it. */
async function start(): Promise<Session> {
  const dir = mkdtempSync(join(sandbox.cwd, 'run-'));
  const proc = spawn(process.execPath, [BIN, 'exec', '--name', name, '--', process.execPath, script, dir], {
    cwd: sandbox.cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  proc.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('close', (code, signal) => { resolve({ code, signal }); });
  });
  const ready = join(dir, 'ready');
  await waitFor(`the child (stderr: ${stderr})`, () => existsSync(ready) && readFileSync(ready, 'utf8') !== '', 30_000);
  const got = (): string[] => (existsSync(join(dir, 'got')) ? readFileSync(join(dir, 'got'), 'utf8').split('\n').filter(Boolean) : []);
  return { proc, dir, childPid: Number(readFileSync(ready, 'utf8')), stderr: () => stderr, exited, got };
}

async function settle(session: Session): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      session.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => { reject(new Error(`okta-connect did not exit; stderr: ${session.stderr()}`)); }, 30_000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (session.proc.pid !== undefined && session.proc.exitCode === null) {
      try {
        process.kill(-session.proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (isAlive(session.childPid)) process.kill(session.childPid, 'SIGKILL');
  }
}

describe('exec: signals the terminal delivers to the process group reach the child once', () => {
  it.each(['SIGINT', 'SIGQUIT'] as const)('%s to the group (Ctrl-C, Ctrl-\\): the child sees exactly one, and its exit code is passed through', async (signal) => {
    const session = await start();
    const pid = session.proc.pid ?? 0;
    process.kill(-pid, signal);
    const outcome = await settle(session);
    expect(session.got(), session.stderr()).toEqual([signal]);
    expect(outcome, session.stderr()).toEqual({ code: 41, signal: null });
    expect(session.stderr()).not.toMatch(/interrupted/);
  });
});

describe('exec: signals sent to okta-connect alone', () => {
  it.each(['SIGUSR1', 'SIGUSR2', 'SIGALRM'] as const)('%s: okta-connect survives, passes it on, and the child runs on and ends normally', async (signal) => {
    const session = await start();
    const pid = session.proc.pid ?? 0;
    process.kill(pid, signal);
    await waitFor(`the child to get ${signal}`, () => session.got().includes(signal), 10_000).catch(() => undefined);
    expect(isAlive(pid), session.stderr()).toBe(true);
    expect(isAlive(session.childPid)).toBe(true);
    writeFileSync(join(session.dir, 'finish'), '');
    const outcome = await settle(session);
    expect(outcome, session.stderr()).toEqual({ code: 0, signal: null });
    expect(session.got()).toEqual([signal]);
    // SIGUSR1 left to Node's default opens its inspector on 127.0.0.1:9229: a debugger into the process holding the token.
    expect(session.stderr()).not.toMatch(/Debugger listening/);
  });

  it.each(['SIGTERM', 'SIGHUP'] as const)('%s: passed on to the child once', async (signal) => {
    const session = await start();
    process.kill(session.proc.pid ?? 0, signal);
    if (signal === 'SIGHUP') {
      await waitFor('the child to get SIGHUP', () => session.got().includes('SIGHUP'), 10_000);
      writeFileSync(join(session.dir, 'finish'), '');
    }
    const outcome = await settle(session);
    expect(session.got(), session.stderr()).toEqual([signal]);
    expect(outcome.code, session.stderr()).toBe(signal === 'SIGTERM' ? 43 : 0);
  });
});
