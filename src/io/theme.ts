import { Chalk } from 'chalk';

/** The colours the tool uses, by role. With colour off every function returns its text unchanged. */
export interface Theme {
  ok: (text: string) => string;
  fail: (text: string) => string;
  warn: (text: string) => string;
  dim: (text: string) => string;
  bold: (text: string) => string;
  okMark: string;
  failMark: string;
  warnMark: string;
}

export function makeTheme(color: boolean): Theme {
  const chalk = new Chalk({ level: color ? 1 : 0 });
  return {
    ok: chalk.green,
    fail: chalk.red,
    warn: chalk.yellow,
    dim: chalk.dim,
    bold: chalk.bold,
    okMark: chalk.green('✓'),
    failMark: chalk.red('✗'),
    warnMark: chalk.yellow('!'),
  };
}
