/**
 * @module cli
 * The `coffer` command. Local commands (`server`) reach the composition root; remote commands will use the
 * AWS SDK clients like any other client.
 */
import { Command } from 'commander';
import { registerAccountsCommand } from './commands/accounts.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerFunctionsCommand } from './commands/functions.js';
import { registerServerCommand } from './commands/server.js';

const program = new Command();
program.name('coffer').description('Coffer: a self-hosted secrets manager and KMS that speaks the AWS APIs');
registerServerCommand(program);
registerFunctionsCommand(program);
registerAuditCommand(program);
registerAccountsCommand(program);
await program.parseAsync(process.argv);
