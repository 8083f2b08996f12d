/**
 * @module cli
 * The entry of the remote commands `coffer run`, `coffer render`, `coffer secrets`, `coffer keys` and `coffer audit events`, which bin/coffer starts instead of the
 * whole CLI (dist/bundle/main.js) when the first argument names one of them: they need the Secrets Manager client
 * and nothing of the server, and `coffer run` stands between a user and their command (docs/ARCHITECTURE.md,
 * "coffer run and coffer render": its start-up cost). main.ts registers the same commands, for `coffer --help`.
 */
import { Command } from 'commander';
import { registerAuditEventsCommand } from './commands/audit-events.js';
import { registerKeysCommand } from './commands/keys.js';
import { registerRenderCommand } from './commands/render.js';
import { registerRunCommand } from './commands/run.js';
import { registerSecretsCommand } from './commands/secrets.js';

// `coffer render TEMPLATE | head`: the reader has gone; stop quietly, as main.ts does.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const program = new Command();
program.name('coffer');
registerRunCommand(program);
registerRenderCommand(program);
registerSecretsCommand(program);
registerKeysCommand(program);
registerAuditEventsCommand(program);
await program.parseAsync(process.argv);
