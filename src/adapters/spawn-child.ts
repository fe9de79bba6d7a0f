import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import crossSpawn from 'cross-spawn';

type Spawn = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

/** The two ways to start a process; a parameter only so that tests can see which one is used. */
export interface Spawners {
  posix: Spawn;
  windows: Spawn;
}

const SPAWNERS: Spawners = { posix: nodeSpawn, windows: crossSpawn };

/**
 * Starts `command` as a shell would find it, without a shell. On Windows many commands are `.cmd`/`.bat` shims (npm,
 * npx, yarn, pnpm, wrappers around terraform): node's spawn looks for `npm` only as npm.com or npm.exe, and
 * refuses a `.cmd` outright without `shell: true` (EINVAL since the CVE-2024-27980 fix), and a shell would re-parse
 * the arguments. cross-spawn looks the command up through PATH and PATHEXT, runs a shim through `cmd.exe /d /s /c`
 * with each argument escaped for cmd.exe, and reports a command cmd.exe cannot find as ENOENT. Elsewhere, node's spawn.
 * The arguments stay an argument vector on every platform: nothing secret belongs in them (exec passes the token in
 * the environment only).
 *
 * Import it lazily (`await import(…)`), as exec does node:child_process: other commands need neither.
 */
export function spawnChild(
  command: string,
  args: readonly string[],
  options: SpawnOptions,
  platform: NodeJS.Platform,
  spawners: Spawners = SPAWNERS,
): ChildProcess {
  return platform === 'win32' ? spawners.windows(command, args, options) : spawners.posix(command, args, options);
}
