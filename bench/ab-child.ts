/**
 * What the in-process A/B benches share (ab-in-process.ts, audit-handoff.ts): each round runs a build in a child
 * process of the same script (`--child`, the job sent as a message), and the report is one table of medians with
 * the per-round ratios.
 */
import { existsSync, readFileSync } from 'node:fs';

export function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/** One table row per measure: the medians of both builds, their ratio and each round's ratio. */
export function abTable(heading: { measure: string; unit: string }, measures: Array<{ label: string; base: number[]; candidate: number[] }>): string {
  const lines = [
    `| ${heading.measure} | base ${heading.unit} (median) | candidate ${heading.unit} (median) | candidate/base | per-round ratios |`,
    '|---|---:|---:|---:|---|',
  ];
  for (const { label, base, candidate } of measures) {
    const ratios = base.map((value, index) => (candidate[index]! / value).toFixed(2));
    lines.push(`| ${label} | ${median(base).toFixed(1)} | ${median(candidate).toFixed(1)} | ${(median(candidate) / median(base)).toFixed(3)} | ${ratios.join(', ')} |`);
  }
  return lines.join('\n') + '\n';
}

/** The machine's 1-minute load average, for the log of each round. */
export function readLoad(): string {
  return existsSync('/proc/loadavg') ? readFileSync('/proc/loadavg', 'utf8').split(' ')[0]! : '?';
}

/**
 * The script's entry: as `--child`, runs the job its parent sends and sends back `{ result }` or `{ error }`;
 * otherwise runs `parent` with the command line.
 */
export function runAsParentOrChild<Job, Result>(name: string, child: (job: Job) => Promise<Result>, parent: (argv: string[]) => Promise<void>): void {
  if (process.argv[2] === '--child') {
    process.once('message', (job: Job) => {
      child(job).then(
        (result) => process.send!({ result }, () => process.exit(0)),
        (error: unknown) => process.send!({ error: error instanceof Error ? error.stack : String(error) }, () => process.exit(1)),
      );
    });
  } else {
    parent(process.argv.slice(2)).catch((error: unknown) => {
      process.stderr.write(`${name} failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    });
  }
}
