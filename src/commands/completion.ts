import { Command, type Option } from 'commander';
import type { Context } from '../context.js';
import { UsageError } from '../domain/errors.js';

export const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const;
type Shell = (typeof SHELLS)[number];

export function completionCommand(run: (shell: string) => Promise<void>): Command {
  return new Command('completion')
    .description('print a shell completion script (bash, zsh, fish or powershell)')
    .argument('<shell>', SHELLS.join(', '))
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  echo \'source <(okta-connect completion bash)\' >> ~/.bashrc',
        '  okta-connect completion zsh > "${fpath[1]}/_okta-connect"',
        '  okta-connect completion fish > ~/.config/fish/completions/okta-connect.fish',
        "  Add-Content $PROFILE 'okta-connect completion powershell | Out-String | Invoke-Expression'",
      ].join('\n'),
    )
    .action(async (shell: string) => {
      await run(shell);
    });
}

/** Hidden: the names to complete, from metadata and the environment only (never the keychain). */
export function namesCommand(run: () => Promise<void>): Command {
  return new Command('__complete-names').action(async () => {
    await run();
  });
}

export async function namesRun(deps: Pick<Context, 'io' | 'connections'>): Promise<void> {
  const names = await deps.connections.names();
  deps.io.stdout.write(names.length > 0 ? `${names.join('\n')}\n` : '');
}

export interface CommandSpec {
  name: string;
  description: string;
  flags: string[];
  /** Other names of the command (rm for remove). */
  aliases?: string[];
  /** The flags (of `flags`) that take a value: the word after one is that value, not a positional word. */
  values?: string[];
  /** The flags (of `values`) whose value is a file. */
  files?: string[];
}

/** Commands and their flags, read from the program itself so the scripts never go stale. */
export function commandSpecs(program: Command): CommandSpec[] {
  const both = (options: readonly Option[]): string[] => options.flatMap((option) => [option.long, option.short]).filter((flag): flag is string => flag !== undefined);
  return program.commands
    .filter((command) => !command.name().startsWith('__'))
    .map((command) => ({
      name: command.name(),
      description: command.description(),
      aliases: command.aliases(),
      // completion's own argument is a word to complete like its flags.
      flags: [...(command.name() === 'completion' ? SHELLS : []), ...both(command.options), '--help'],
      values: both(command.options.filter((option) => option.required || option.optional)),
      files: both(command.options.filter((option) => /<file>|\[file\]/.test(option.flags))),
    }));
}

export function completionRun(deps: Pick<Context, 'io'>, program: Command, shell: string): void {
  if (!(SHELLS as readonly string[]).includes(shell)) {
    throw new UsageError(`unknown shell "${shell}"`, { hint: `use one of: ${SHELLS.join(', ')}` });
  }
  const specs = commandSpecs(program);
  const scripts: Record<Shell, () => string> = {
    bash: () => bashScript(specs),
    zsh: () => zshScript(specs),
    fish: () => fishScript(specs),
    powershell: () => powershellScript(specs),
  };
  deps.io.stdout.write(scripts[shell as Shell]());
}

const NAME_FLAGS = '--name|-n';
/** The program's own flags, offered before a command. */
const GLOBAL_FLAGS = ['--help', '--version', '-v', '--no-color', '--quiet', '-q', '--debug'];
/** The commands that take a connection name as their first argument (add's is a new name: nothing to offer). */
const NAMED_COMMANDS = ['test', 'token', 'exec', 'remove', 'rotate', 'rm'];

/** Every flag that takes a value, and every one whose value is a file. */
function flagValues(specs: CommandSpec[]): { values: string[]; files: string[] } {
  return { values: [...new Set(specs.flatMap((spec) => spec.values ?? []))], files: [...new Set(specs.flatMap((spec) => spec.files ?? []))] };
}

/** A case pattern for a command and its aliases. */
const casePattern = (spec: CommandSpec): string => [spec.name, ...(spec.aliases ?? [])].join('|');

function bashScript(specs: CommandSpec[]): string {
  const words = (list: string[]): string => `printf '%s\\n' ${list.join(' ')}`;
  const cases = specs.map((spec) => `    ${casePattern(spec)}) _okta_connect_match < <(${words(spec.flags)}) ;;`).join('\n');
  const top = [...specs.map((spec) => spec.name), ...GLOBAL_FLAGS];
  // A flag takes a value in every command that has it or in none (a unit test checks): one list serves all commands.
  const { values, files } = flagValues(specs);
  const others = values.filter((flag) => !files.includes(flag) && !NAME_FLAGS.split('|').includes(flag));
  return `# bash completion for okta-connect
# Candidates are matched by prefix here, never through compgen -W, which expands $(…), \`…\` and globs in its word
# list: what __complete-names prints (names from a file and the environment) stays data.
_okta_connect_match() {
  local word
  while IFS= read -r word || [[ -n "$word" ]]; do
    [[ -n "$word" && "$word" == "$cur"* ]] && COMPREPLY+=("$word")
  done
  return 0
}
_okta_connect() {
  local cur prev cmd i at=0 dashes=0 args=0
  COMPREPLY=()
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  # --name=prod is split at "=": the flag is then two words back.
  if [[ "$prev" == "=" ]]; then prev="\${COMP_WORDS[COMP_CWORD-2]}"; fi
  [[ "$cur" == "=" ]] && cur=""
  # The command is the first word that is not a flag (global flags may come first); then what follows it.
  for (( i = 1; i < COMP_CWORD; i++ )); do
    local word="\${COMP_WORDS[i]}"
    if [[ -z "$cmd" ]]; then
      [[ "$word" != -* ]] && cmd="$word" && at=$i
    elif [[ "$word" == "--" ]]; then
      dashes=$i
    elif [[ "$word" != -* && "$word" != "=" && "\${COMP_WORDS[i-1]}" != "=" && " ${values.join(' ')} " != *" \${COMP_WORDS[i-1]} "* ]]; then
      (( dashes == 0 )) && args=$((args + 1))
    fi
  done
  if [[ -z "$cmd" ]]; then
    _okta_connect_match < <(${words(top)})
    return 0
  fi
  # exec <name> -- <command> <files…>, add --secret-command -- <command> <files…>: what the shell would complete there.
  if [[ ( "$cmd" == exec || "$cmd" == add ) && $dashes -gt 0 ]]; then
    if (( COMP_CWORD == dashes + 1 )); then COMPREPLY=( $(compgen -c -- "$cur") ); else COMPREPLY=( $(compgen -f -- "$cur") ); fi
    return 0
  fi
  case "$prev" in
    ${NAME_FLAGS})
      # add --name takes a new name: the saved ones are the names it must not be.
      [[ "$cmd" != add ]] && _okta_connect_match < <(okta-connect __complete-names 2>/dev/null)
      return 0 ;;
    ${files.join('|')}) COMPREPLY=( $(compgen -f -- "$cur") ); return 0 ;;
    # Another value to type (seconds, an address): nothing to offer.
    ${others.join('|')}) return 0 ;;
  esac
  if [[ "$cur" != -* && $args -eq 0 ]]; then
    case "$cmd" in
      ${NAMED_COMMANDS.join('|')}) _okta_connect_match < <(okta-connect __complete-names 2>/dev/null); return 0 ;;
    esac
  fi
  case "$cmd" in
${cases}
  esac
  return 0
}
complete -F _okta_connect okta-connect
`;
}

/** The flags of every command that take a value, and those whose value is a file, as zsh array assignments. */
function zshFlagArrays(spec: CommandSpec): string {
  return `values=(${(spec.values ?? []).join(' ')}); files=(${(spec.files ?? []).join(' ')})`;
}

function zshScript(specs: CommandSpec[]): string {
  const top = [...specs.map((spec) => spec.name), ...GLOBAL_FLAGS];
  const valueCases = specs.map((spec) => `          ${casePattern(spec)}) ${zshFlagArrays(spec)} ;;`).join('\n');
  const flagCases = specs.map((spec) => `    ${casePattern(spec)}) compadd -- ${spec.flags.join(' ')} ;;`).join('\n');
  return `#compdef okta-connect
# zsh completion for okta-connect
# Saved names come from \`okta-connect __complete-names\`, one a line, and reach compadd as words: never evaluated or
# globbed, and quoted by compadd when one is inserted (a name $(touch x) goes on the line as \\$\\(touch\\ x\\)).
_okta-connect() {
  local cmd word flag
  local -a values files
  integer i dashes=0 args=0
  # The command is the first word that is not a flag (global flags may come first); then its positional words, the
  # value of a flag that takes one, and where -- is.
  for (( i = 2; i < CURRENT; i++ )); do
    word=\${words[i]}
    if [[ -z $cmd ]]; then
      if [[ $word != -* ]]; then
        cmd=$word
        case $cmd in
${valueCases}
        esac
      fi
    elif [[ $word == -- ]]; then
      dashes=$i
      break
    elif (( \${values[(Ie)$word]} )); then
      (( i + 1 == CURRENT )) && flag=$word
      (( ++i ))
    elif [[ $word != -* ]]; then
      (( ++args ))
    fi
  done
  if [[ -z $cmd ]]; then
    compadd -- ${top.join(' ')}
    return
  fi
  # exec <name> -- <command> <args…>, add --secret-command -- <command> <args…>: what zsh completes for that command.
  if (( dashes )) && [[ $cmd == (exec|add) ]]; then
    shift $dashes words
    (( CURRENT -= dashes ))
    _normal
    return
  fi
  # --name=prod is one word.
  if [[ -z $flag && $PREFIX == --*=* ]] && (( \${values[(Ie)\${PREFIX%%=*}]} )); then
    flag=\${PREFIX%%=*}
    compset -P '*='
  fi
  if [[ -n $flag ]]; then
    case $flag in
      # add --name takes a new name: the saved ones are the names it must not be.
      ${NAME_FLAGS}) [[ $cmd != add ]] && _okta-connect-names ;;
      *) (( \${files[(Ie)$flag]} )) && _files ;;
    esac
    return
  fi
  if [[ $PREFIX != -* ]] && (( args == 0 )) && [[ $cmd == (${NAMED_COMMANDS.join('|')}) ]]; then
    _okta-connect-names
    return
  fi
  case $cmd in
${flagCases}
  esac
}
_okta-connect-names() {
  local -a names
  names=( \${(f)"$(okta-connect __complete-names 2>/dev/null)"} )
  compadd -- "\${names[@]}"
}
compdef _okta-connect okta-connect
# Autoloaded from $fpath as _okta-connect, this file runs on the first completion: complete that one too.
if [[ \${funcstack[1]} == _okta-connect ]]; then _okta-connect "$@"; fi
`;
}

function fishScript(specs: CommandSpec[]): string {
  const { values } = flagValues(specs);
  const lines = [
    '# fish completion for okta-connect',
    '# Saved names come from `okta-connect __complete-names`, one a line: fish takes each line of a command substitution',
    '# as one word, never expanded again, and escapes it when it inserts it (a name $(touch x) goes in as \\$\\(touch\\ x\\)).',
    'complete -c okta-connect -e',
    'complete -c okta-connect -f',
    '',
    '# The command (the first word that is not a flag), how many positional words follow it, and "--" once one came.',
    'function __okta_connect_state',
    '    set -l tokens (commandline -opc)',
    '    set -e tokens[1]',
    '    set -l cmd',
    '    set -l args 0',
    '    set -l skip 0',
    '    for token in $tokens',
    '        if test $skip -eq 1',
    '            set skip 0',
    '        else if test -z "$cmd"',
    "            string match -q -- '-*' $token; or set cmd $token",
    "        else if test \"$token\" = '--'",
    "            printf '%s\\n' $cmd $args --",
    '            return 0',
    `        else if contains -- $token ${values.join(' ')}`,
    '            set skip 1',
    "        else if not string match -q -- '-*' $token",
    '            set args (math $args + 1)',
    '        end',
    '    end',
    '    test -n "$cmd"; or return 1',
    "    printf '%s\\n' $cmd $args",
    'end',
    '',
    '# The command is one of $argv, before any "--".',
    'function __okta_connect_command_is',
    '    set -l state (__okta_connect_state); or return 1',
    '    contains -- $state[1] $argv; and not set -q state[3]',
    'end',
    '',
    '# The word being completed is the connection name of a command that takes one.',
    'function __okta_connect_wants_name',
    '    set -l state (__okta_connect_state); or return 1',
    `    contains -- $state[1] ${NAMED_COMMANDS.join(' ')}; and test $state[2] -eq 0; and not set -q state[3]`,
    "    and not string match -q -- '-*' (commandline -ct)",
    'end',
    '',
    '# exec <name> -- <command> <args…>, add --secret-command -- <command> <args…>.',
    'function __okta_connect_after_dashes',
    '    set -l state (__okta_connect_state); or return 1',
    '    contains -- $state[1] exec add; and set -q state[3]',
    'end',
    '',
    '# What fish completes for the command line after "--": the command, then its own completion (files by default).',
    'function __okta_connect_complete_after_dashes',
    '    set -l tokens (commandline -opc)',
    '    set -l at (contains -i -- -- $tokens)',
    '    set -e tokens[1..$at]',
    "    set -l line (string escape -- $tokens) (commandline -ct)",
    "    complete -C (string join ' ' -- $line)",
    'end',
    '',
    'function __okta_connect_names',
    '    okta-connect __complete-names 2>/dev/null',
    'end',
    '',
    "complete -c okta-connect -n '__okta_connect_wants_name' -a '(__okta_connect_names)'",
    "complete -c okta-connect -n '__okta_connect_after_dashes' -a '(__okta_connect_complete_after_dashes)'",
  ];
  for (const flag of GLOBAL_FLAGS) lines.push(`complete -c okta-connect -n 'not __okta_connect_state >/dev/null' ${fishOption(flag)}`);
  for (const spec of specs) {
    const names = [spec.name, ...(spec.aliases ?? [])].join(' ');
    const when = `-n '__okta_connect_command_is ${names}'`;
    lines.push(`complete -c okta-connect -n 'not __okta_connect_state >/dev/null' -a ${spec.name} -d ${fishQuote(spec.description)}`);
    for (const flag of spec.flags.filter((word) => word.startsWith('-'))) {
      let value = '';
      if (NAME_FLAGS.split('|').includes(flag)) value = spec.name === 'add' ? ' -x' : " -x -a '(__okta_connect_names)'";
      else if (spec.files?.includes(flag)) value = ' -r -F';
      else if (spec.values?.includes(flag)) value = ' -x';
      lines.push(`complete -c okta-connect ${when} ${fishOption(flag)}${value}`);
    }
  }
  lines.push(`complete -c okta-connect -n '__okta_connect_command_is completion' -a '${SHELLS.join(' ')}'`);
  return `${lines.join('\n')}\n`;
}

function fishOption(flag: string): string {
  return flag.startsWith('--') ? `-l ${flag.slice(2)}` : `-s ${flag.slice(1)}`;
}

function fishQuote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * For PowerShell 5.1 and 7 on any OS. Registered for the names npm installs on Windows too (okta-connect.cmd and .ps1
 * shims). Saved names come from `okta-connect __complete-names`, as in the other shells.
 */
export function powershellScript(specs: CommandSpec[]): string {
  const flags = specs.map((spec) => `    ${psQuote(spec.name)} = @(${spec.flags.map(psQuote).join(', ')})`).join('\n');
  const descriptions = specs.map((spec) => `    ${psQuote(spec.name)} = ${psQuote(spec.description === '' ? spec.name : spec.description)}`).join('\n');
  return `# PowerShell completion for okta-connect
# Load it from your profile: okta-connect completion powershell | Out-String | Invoke-Expression
Register-ArgumentCompleter -Native -CommandName 'okta-connect', 'okta-connect.cmd', 'okta-connect.ps1' -ScriptBlock {
  param($wordToComplete, $commandAst, $cursorPosition)
  $flags = @{
${flags}
  }
  $descriptions = @{
${descriptions}
  }
  # The words before the one being completed; the first is okta-connect itself.
  $words = @($commandAst.CommandElements | Where-Object { $_.Extent.StartOffset -lt $cursorPosition } | ForEach-Object { $_.Extent.Text })
  if ($wordToComplete -ne '') { $words = @($words | Select-Object -SkipLast 1) }
  if ($words.Count -le 1) {
    $candidates = @($flags.Keys | Sort-Object) + @(${GLOBAL_FLAGS.map((flag) => `'${flag}'`).join(', ')})
  } elseif ($words[-1] -in ${NAME_FLAGS.split('|').map(psQuote).join(', ')}) {
    $candidates = @(okta-connect __complete-names 2>$null)
  } else {
    $candidates = @($flags[$words[1]])
  }
  foreach ($candidate in $candidates) {
    if (-not $candidate -or -not $candidate.StartsWith($wordToComplete, [System.StringComparison]::Ordinal)) { continue }
    $kind = if ($candidate.StartsWith('-')) { 'ParameterName' } else { 'ParameterValue' }
    $tip = if ($words.Count -le 1 -and $descriptions.ContainsKey($candidate)) { $descriptions[$candidate] } else { $candidate }
    [System.Management.Automation.CompletionResult]::new($candidate, $candidate, $kind, $tip)
  }
}
`;
}

/** A single-quoted PowerShell string; PowerShell also ends one at the typographic quotes, so those are doubled too. */
function psQuote(text: string): string {
  return `'${text.replace(/['\u2018\u2019\u201A\u201B]/g, '$&$&')}'`;
}
