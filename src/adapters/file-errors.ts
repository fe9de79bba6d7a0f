import { CliError, ExitCode } from '../domain/errors.js';

/** A file-system failure as a usage error (exit 2) saying what could not be done and why, in words. */
export function fileError(error: unknown, what: string): CliError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const why: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'the file system is read-only',
    ENOSPC: 'the disk is full',
    EDQUOT: 'the disk quota is exceeded',
    ENOTDIR: 'a part of the path is not a folder',
  };
  return new CliError(ExitCode.usage, `${what}: ${why[code ?? ''] ?? code ?? String(error)}`, {
    hint: 'check the folder and its permissions, or set OKTA_CONNECT_CONFIG_DIR to another folder',
    cause: error,
  });
}

export function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}
