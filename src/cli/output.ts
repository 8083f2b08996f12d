/**
 * @module cli
 * Output of the commands for people (`coffer secrets …`, `coffer keys …`): aligned tables and key/value
 * listings for a person, the API's answer as JSON for a script (`--output json`), colours only on a terminal
 * with NO_COLOR unset (https://no-color.org/), and errors that say what to do next with the exit codes
 * scripts rely on: 1 for a refused or failed API call, 2 for a usage error. Nothing here ever sees a secret
 * value: `coffer secrets get` writes the value itself, to stdout only.
 */
import { describeSdkError } from './aws-clients.js';

export type OutputFormat = 'table' | 'json';

/** Exit codes: 1 when the server refused or failed a call, 2 when the command line itself is wrong. */
export const EXIT_API_ERROR = 1;
export const EXIT_USAGE_ERROR = 2;

/** A mistake on the command line, found before any request. */
export class UsageError extends Error {}

export function outputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === 'table') return 'table';
  if (value === 'json') return 'json';
  throw new UsageError(`--output ${value}: expected "table" or "json"`);
}

const colours = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33' } as const;
export type Colour = keyof typeof colours;

function useColour(): boolean {
  return process.stdout.isTTY === true && !process.env.NO_COLOR;
}

export function paint(text: string, colour: Colour | undefined): string {
  if (colour === undefined || !useColour()) return text;
  return `\u001b[${colours[colour]}m${text}\u001b[0m`;
}

/** A table cell: its text, and a colour for a terminal (states: Enabled green, PendingDeletion red, …). */
export type Cell = string | { text: string; colour?: Colour };

/** Columns padded to their widest cell (measured without colour codes), headers in bold. */
export function formatTable(headers: string[], rows: Cell[][]): string {
  const texts = rows.map((row) => row.map((cell) => (typeof cell === 'string' ? cell : cell.text)));
  const widths = headers.map((header, column) => Math.max(header.length, ...texts.map((row) => row[column]?.length ?? 0)));
  const line = (cells: Cell[]) =>
    cells
      .map((cell, column) => {
        const text = typeof cell === 'string' ? cell : cell.text;
        const padding = column === cells.length - 1 ? '' : ' '.repeat(widths[column]! - text.length + 2);
        return paint(text, typeof cell === 'string' ? undefined : cell.colour) + padding;
      })
      .join('')
      .trimEnd();
  return [line(headers.map((header) => ({ text: header, colour: 'bold' as const }))), ...rows.map(line)].join('\n') + '\n';
}

/** `Label:  value` lines for one resource (describe), labels aligned; empty values are left out. */
export function formatFields(fields: Array<[string, Cell | undefined]>): string {
  const present = fields.filter((field): field is [string, Cell] => field[1] !== undefined && field[1] !== '');
  const width = Math.max(...present.map(([label]) => label.length)) + 1;
  return present.map(([label, cell]) => `${paint(`${label}:`.padEnd(width + 1), 'bold')}${typeof cell === 'string' ? cell : paint(cell.text, cell.colour)}\n`).join('');
}

/** A date as people read it in a table: UTC to the minute. */
export function formatDate(date: Date | undefined): string {
  if (date === undefined) return '';
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The API's answer for a script: dates as ISO strings, binary as base64, the SDK's $metadata left out. */
export function printJson(answer: object): void {
  const { $metadata: _metadata, ...rest } = answer as Record<string, unknown>;
  process.stdout.write(
    JSON.stringify(rest, (_key, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value), 2) + '\n',
  );
}

/** What a person should do about an SDK error: the command that helps, or the permission to ask for. */
export type ErrorHints = {
  /** The IAM action of the failed call (`secretsmanager:GetSecretValue`), named on AccessDenied. */
  action: string;
  /** The command that lists what exists (`coffer secrets list`), named on ResourceNotFound. */
  listCommand: string;
};

/** The error's code and message with the next step; never the request's payload (Coffer's messages name no values). */
export function explainError(error: unknown, hints: ErrorHints): string {
  const name = error instanceof Error ? error.name : '';
  const described = describeSdkError(error);
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return `${described}\n  Next: ask an administrator for ${hints.action} on this resource (an IAM policy, or the resource's own policy).`;
  }
  if (name === 'ResourceNotFoundException' || name === 'NotFoundException') {
    return `${described}\n  Next: \`${hints.listCommand}\` shows the names that exist (add --all to include those scheduled for deletion).`;
  }
  if (name === 'UnrecognizedClientException' || name === 'InvalidClientTokenId' || name === 'InvalidSignatureException' || name === 'SignatureDoesNotMatch') {
    return `${described}\n  Next: check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or --profile): the server does not recognise these credentials.`;
  }
  return described;
}

/**
 * Runs a command's action and turns its failures into a message on stderr and an exit code: UsageError → 2,
 * anything from the SDK or the server → 1. `prefix` names the command (`coffer secrets get`).
 */
export async function runAction(prefix: string, hints: () => ErrorHints, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${prefix}: ${error.message}\n`);
      process.exit(EXIT_USAGE_ERROR);
    }
    process.stderr.write(`${prefix}: ${explainError(error, hints())}\n`);
    process.exit(EXIT_API_ERROR);
  }
}

/** Commander's own usage errors (unknown option, missing argument) exit with 2, as the rest of usage errors. */
export function exitTwoOnUsageErrors(command: { exitOverride(callback: (error: { exitCode: number }) => never): unknown }): void {
  command.exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE_ERROR));
}
