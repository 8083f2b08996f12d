import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../core/index.js';
import type { FunctionRecord } from '../store/index.js';
import type { Execution } from './hosted.js';

/** Invocations whose log is kept per function; older ones are removed as new ones are written. */
export const KEPT_INVOCATIONS = 20;

/**
 * Each invocation's log, as CloudWatch Logs keeps a Lambda's: the last 4 KB of what the function printed,
 * framed by START/END lines and the outcome (error type only), in
 * `<logDir>/<account>/<region>/<function>/<time>-<request id>.log` (files 0600, directories 0700), the last
 * KEPT_INVOCATIONS per function. What a function prints is its own: it may hold anything, so these files are
 * as private as the data dir. Writing one never fails the invocation.
 */
export async function keepInvocationLog(
  logDir: string,
  record: FunctionRecord,
  requestId: string,
  execution: Execution,
  startedAt: Date,
  logger: Logger,
): Promise<void> {
  const dir = join(logDir, record.accountId, record.region, record.name);
  const outcome = execution.outcome.ok ? 'succeeded' : `failed: ${execution.outcome.errorType}`;
  const output = execution.logTail;
  const text =
    `START RequestId: ${requestId} Version: $LATEST Time: ${startedAt.toISOString()}\n` +
    `${output}${output === '' || output.endsWith('\n') ? '' : '\n'}` +
    `END RequestId: ${requestId} Outcome: ${outcome}\n`;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}-${requestId}.log`), text, { mode: 0o600 });
    const files = (await readdir(dir)).filter((name) => name.endsWith('.log')).sort();
    for (const old of files.slice(0, Math.max(0, files.length - KEPT_INVOCATIONS))) await rm(join(dir, old), { force: true });
  } catch (error) {
    logger.warn('function log could not be kept', { functionName: record.name, requestId, error: error instanceof Error ? error.message : String(error) });
  }
}
