import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/**
 * Secrets an operator types (a root key passphrase, unseal shares): from a terminal without echo, or from
 * stdin's lines when it is a pipe. Never from a command-line argument, which other users see in the process list.
 */
export async function promptHidden(question: string): Promise<string> {
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const reader = createInterface({ input: process.stdin, output: silent, terminal: true });
  process.stderr.write(question);
  try {
    return await new Promise<string>((resolve) => reader.question('', resolve));
  } finally {
    reader.close();
    process.stderr.write('\n');
  }
}

let pipedLines: string[] | undefined;

/** The next non-empty line of a piped stdin (read whole on first use); undefined when there is none left. */
export function nextPipedLine(): string | undefined {
  pipedLines ??= readFileSync(0, 'utf8').split('\n').map((line) => line.trim()).filter((line) => line.length > 0);
  return pipedLines.shift();
}

/** A secret from the terminal (hidden) or the next line of piped stdin. */
export async function readSecret(question: string): Promise<string | undefined> {
  return process.stdin.isTTY ? promptHidden(question) : nextPipedLine();
}

/**
 * The root key passphrase: COFFER_ROOT_PASSPHRASE, else the file given (its first line), else the prompt when
 * `ask` and stdin is a terminal; undefined when none.
 */
export async function rootPassphrase(file: string | undefined, ask: boolean): Promise<string | undefined> {
  if (process.env.COFFER_ROOT_PASSPHRASE !== undefined) return process.env.COFFER_ROOT_PASSPHRASE;
  if (file !== undefined) return readFileSync(file, 'utf8').split('\n')[0]!;
  if (ask && process.stdin.isTTY) return promptHidden('Root key passphrase: ');
  return undefined;
}
