/**
 * @module cli
 * The `coffer` command. Local commands (`server`) reach the composition root; remote commands will use the
 * AWS SDK clients like any other client.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerAccountsCommand } from './commands/accounts.js';
import { registerOidcCommand } from './commands/oidc.js';
import { registerAgentCommand } from './commands/agent.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerAuditEventsCommand } from './commands/audit-events.js';
import { registerBackupCommands } from './commands/backup.js';
import { registerCompletionCommand } from './commands/completion.js';
import { registerFunctionsCommand } from './commands/functions.js';
import { registerKeysCommand } from './commands/keys.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerRenderCommand } from './commands/render.js';
import { registerRunCommand } from './commands/run.js';
import { registerSecretsCommand } from './commands/secrets.js';
import { registerServerCommand } from './commands/server.js';
import { registerRootKeyCommands } from './commands/root-key.js';

// `coffer audit list | head`: the reader has gone, so stop quietly as a Unix filter does, not with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const program = new Command();
program
  .name('coffer')
  .description('Coffer: a self-hosted secrets manager and KMS that speaks the AWS APIs')
  .version(packageVersion(), '-V, --version', 'print the version of Coffer');
registerServerCommand(program);
registerRootKeyCommands(program);
registerFunctionsCommand(program);
registerAuditCommand(program);
registerAuditEventsCommand(program);
registerAccountsCommand(program);
registerOidcCommand(program);
registerMigrateCommand(program);
registerBackupCommands(program, packageVersion());
registerAgentCommand(program);
registerRunCommand(program);
registerRenderCommand(program);
registerSecretsCommand(program);
registerKeysCommand(program);
registerCompletionCommand(program);
await program.parseAsync(process.argv);

/** package.json's version; both dist/cli/main.js and dist/bundle/main.js sit two levels below it. */
function packageVersion(): string {
  const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return packageJson.version;
}
