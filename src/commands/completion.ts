import { Command } from 'commander';
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
}

/** Commands and their flags, read from the program itself so the scripts never go stale. */
export function commandSpecs(program: Command): CommandSpec[] {
  return program.commands
    .filter((command) => !command.name().startsWith('__'))
    .map((command) => ({
      name: command.name(),
      description: command.description(),
      // completion's own argument is a word to complete like its flags.
      flags: [
        ...(command.name() === 'completion' ? SHELLS : []),
        ...command.options.flatMap((option) => [option.long, option.short]),
        '--help',
      ].filter((flag): flag is string => flag !== undefined),
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

function bashScript(specs: CommandSpec[]): string {
  const words = (list: string[]): string => `printf '%s\\n' ${list.join(' ')}`;
  const cases = specs.map((spec) => `    ${spec.name}) _okta_connect_match < <(${words(spec.flags)}) ;;`).join('\n');
  const top = [...specs.map((spec) => spec.name), ...GLOBAL_FLAGS];
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
    elif [[ "$word" != -* && "$word" != "=" && "\${COMP_WORDS[i-1]}" != --name && "\${COMP_WORDS[i-1]}" != -n && "\${COMP_WORDS[i-1]}" != "=" ]]; then
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

function zshScript(specs: CommandSpec[]): string {
  const cases = specs.map((spec) => `    ${spec.name}) compadd -- ${spec.flags.join(' ')} ;;`).join('\n');
  return `#compdef okta-connect
# zsh completion for okta-connect
_okta_connect() {
  if (( CURRENT == 2 )); then
    compadd -- ${specs.map((spec) => spec.name).join(' ')} ${GLOBAL_FLAGS.join(' ')}
    return
  fi
  case \${words[CURRENT-1]} in
    --name|-n)
      [[ \${words[2]} != add ]] && compadd -- \${(f)"$(okta-connect __complete-names 2>/dev/null)"}
      return ;;
  esac
  case \${words[2]} in
${cases}
  esac
}
compdef _okta_connect okta-connect
`;
}

function fishScript(specs: CommandSpec[]): string {
  const lines = ['# fish completion for okta-connect', 'complete -c okta-connect -f'];
  for (const spec of specs) {
    lines.push(`complete -c okta-connect -n __fish_use_subcommand -a ${spec.name} -d ${fishQuote(spec.description)}`);
    for (const flag of spec.flags.filter((word) => word.startsWith('-'))) {
      const option = flag.startsWith('--') ? `-l ${flag.slice(2)}` : `-s ${flag.slice(1)}`;
      const names = (flag === '--name' || flag === '-n') && spec.name !== 'add' ? " -xa '(okta-connect __complete-names 2>/dev/null)'" : flag === '--name' || flag === '-n' ? ' -x' : '';
      lines.push(`complete -c okta-connect -n '__fish_seen_subcommand_from ${spec.name}' ${option}${names}`);
    }
  }
  lines.push(`complete -c okta-connect -n '__fish_seen_subcommand_from completion' -a '${SHELLS.join(' ')}'`);
  return `${lines.join('\n')}\n`;
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
