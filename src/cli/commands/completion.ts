/**
 * @module cli
 * `coffer completion bash|zsh`: prints a shell completion script. Commander generates none, so this is a small
 * static list of the commands and flags; a new command or flag is added here by hand (the CLI test checks that
 * every `secrets` and `keys` subcommand is listed).
 */
import type { Command } from 'commander';

/** Commands, then for each (or `command subcommand`) the words that may follow it. */
const TOP_LEVEL = ['server', 'functions', 'audit', 'accounts', 'oidc', 'migrate', 'backup', 'restore', 'agent', 'run', 'render', 'secrets', 'keys', 'completion', 'help'];
const COMMON_FLAGS = ['--output', '--region', '--endpoint-url', '--profile', '--help'];
const FOLLOWERS: Record<string, string[]> = {
  secrets: ['list', 'get', 'put', 'describe', 'versions', 'rotate', 'delete', 'restore', 'export', 'import'],
  keys: ['list', 'create', 'describe', 'enable', 'disable', 'rotate', 'schedule-deletion', 'cancel-deletion'],
  completion: ['bash', 'zsh'],
  audit: ['verify', 'list', 'events'],
  'audit events': ['--since', '--until', '--event-name', '--user', '--resource', '--access-key', '--event-source', '--read-only', '--writes', '--errors', '--limit'],
  'secrets list': ['--prefix', '--all'],
  'secrets get': ['--stage', '--version-id', '--json-key'],
  'secrets put': ['--value', '--from-file', '--stdin', '--description'],
  'secrets delete': ['--recovery-days', '--force'],
  'secrets export': ['--prefix', '--passphrase-file', '--passphrase-env', '--kms-key'],
  'secrets import': ['--passphrase-file', '--passphrase-env', '--kms-key', '--skip-existing'],
  'keys create': ['--description', '--spec', '--usage'],
  'keys schedule-deletion': ['--days'],
  run: ['--secret', '--all-from', '--env-file', '--watch', '--watch-interval', '--stop-timeout', '--region', '--endpoint-url', '--profile'],
};

/** The command names the completion scripts know (for the test). */
export const COMPLETED_COMMANDS = { top: TOP_LEVEL, secrets: FOLLOWERS.secrets!, keys: FOLLOWERS.keys! };

export function registerCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: eval "$(coffer completion bash)" (or zsh)')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh') {
        process.stderr.write(`coffer completion: ${shell}: expected bash or zsh\n`);
        process.exit(2);
      }
      process.stdout.write(shell === 'bash' ? bashScript() : zshScript());
    });
}

/** The words after a command path: its own, and the common flags of the remote subcommands. */
function wordsAfter(path: string, words: string[]): string[] {
  const remote = path.startsWith('secrets ') || path.startsWith('keys ') || path === 'audit events';
  return remote ? [...words, ...COMMON_FLAGS] : words;
}

/** `case` arms mapping "cmd" / "cmd sub" to the words offered after it (flags of the remote subcommands include the common ones). */
function caseArms(indent: string): string {
  const arms = Object.entries(FOLLOWERS).map(([path, words]) => {
    return `${indent}"${path}") words="${wordsAfter(path, words).join(' ')}" ;;`;
  });
  // A secrets/keys subcommand without its own flags still takes the common ones.
  arms.push(`${indent}"secrets "*|"keys "*) words="${COMMON_FLAGS.join(' ')}" ;;`);
  return arms.join('\n');
}

function bashScript(): string {
  return `# coffer completion for bash: eval "$(coffer completion bash)"
_coffer() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmdpath="" words="" i
  for ((i = 1; i < COMP_CWORD && i < 3; i++)); do
    [[ \${COMP_WORDS[i]} == -* ]] && break
    cmdpath="\${cmdpath:+\$cmdpath }\${COMP_WORDS[i]}"
  done
  case "\$cmdpath" in
    "") words="${TOP_LEVEL.join(' ')}" ;;
${caseArms('    ')}
  esac
  COMPREPLY=(\$(compgen -W "\$words" -- "\$cur"))
}
complete -o default -F _coffer coffer
`;
}

function zshScript(): string {
  return `#compdef coffer
# coffer completion for zsh: eval "$(coffer completion zsh)" (after compinit)
_coffer() {
  local cmdpath="" i
  for ((i = 2; i < CURRENT && i < 4; i++)); do
    [[ \${words[i]} == -* ]] && break
    cmdpath="\${cmdpath:+\$cmdpath }\${words[i]}"
  done
  local -a offered
  case "\$cmdpath" in
    "") offered=(${TOP_LEVEL.join(' ')}) ;;
${Object.entries(FOLLOWERS)
  .map(([path, followers]) => {
    return `    "${path}") offered=(${wordsAfter(path, followers).join(' ')}) ;;`;
  })
  .join('\n')}
    "secrets "*|"keys "*) offered=(${COMMON_FLAGS.join(' ')}) ;;
  esac
  compadd -a offered
}
compdef _coffer coffer
`;
}
