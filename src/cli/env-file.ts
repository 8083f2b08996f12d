/**
 * `coffer run --env-file FILE`: a dotenv file. Each line is `NAME=VALUE` (optionally `export NAME=VALUE`);
 * blank lines and lines starting with `#` are skipped. A value wholly in double quotes has `\n`, `\"` and
 * `\\` unescaped; a value wholly in single quotes is taken literally; any other value is the rest of the line
 * as written (no inline comments, no variable expansion). A value may contain CloudFormation dynamic
 * references (`{{resolve:secretsmanager:prod/db/mysql:SecretString:password}}`), which `coffer run` replaces by
 * the secret's value, so one line can build a URL around a password. Pure parsing; errors give the file and
 * line number, never the line (it may hold a value).
 */

export type EnvFileEntry = { name: string; value: string; origin: string };

export class EnvFileError extends Error {
  override name = 'EnvFileError';
}

export function parseEnvFile(text: string, file: string): EnvFileEntry[] {
  const entries: EnvFileEntry[] = [];
  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) return;
    const origin = `${file}:${index + 1}`;
    const assignment = line.startsWith('export ') ? line.slice('export '.length).trimStart() : line;
    const equals = assignment.indexOf('=');
    if (equals === -1) throw new EnvFileError(`${origin}: expected NAME=VALUE`);
    const name = assignment.slice(0, equals).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new EnvFileError(`${origin}: "${name}" is not a variable name (letters, digits and _, not starting with a digit)`);
    entries.push({ name, value: unquote(assignment.slice(equals + 1).trim(), origin), origin });
  });
  return entries;
}

function unquote(value: string, origin: string): string {
  const quote = value[0];
  if (quote !== '"' && quote !== "'") return value;
  if (value.length < 2 || value[value.length - 1] !== quote) throw new EnvFileError(`${origin}: unterminated ${quote === '"' ? 'double' : 'single'} quote`);
  const inner = value.slice(1, -1);
  if (quote === "'") return inner;
  return inner.replace(/\\([n"\\])/g, (_match, escaped: string) => (escaped === 'n' ? '\n' : escaped));
}
