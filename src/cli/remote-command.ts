/**
 * @module cli
 * A command group of API calls against a running server (`coffer secrets`, `coffer keys`, `coffer audit events`): the options every
 * subcommand shares (output format, Region, endpoint, profile), usage errors exiting 2, and one place that
 * opens the SDK clients, runs a subcommand's call, explains a refusal and closes the clients.
 */
import type { Command } from 'commander';
import type { ClientOptions } from './aws-clients.js';
import { exitTwoOnUsageErrors, outputFormat, runAction, type OutputFormat } from './output.js';

/** The call a subcommand makes with the group's open clients, printing as `format` says. */
export type RemoteCall<Clients> = (clients: Clients, format: OutputFormat) => Promise<void>;

export type RemoteGroupSpec<Clients> = {
  name: string;
  description: string;
  /** The --endpoint-url help: which AWS_ENDPOINT_URL_* variable the SDK reads for this service. */
  endpointHelp: string;
  /** The IAM service prefix a refusal names (`secretsmanager`, `kms`). */
  actionPrefix: string;
  /** The command a not-found error points to. */
  listCommand: string;
  open(options: ClientOptions): Promise<Clients>;
  close(clients: Clients): void;
};

/**
 * Adds the group to `program`; returns the function that adds a subcommand making `action`'s calls. A group that
 * already exists (`coffer audit`, whose verify and list read a data dir) gets the remote subcommands, each with
 * the shared options, which its local subcommands do not take.
 */
export function remoteCommandGroup<Clients>(program: Command, spec: RemoteGroupSpec<Clients>) {
  const existing = program.commands.find((command) => command.name() === spec.name);
  const group = existing ?? program.command(spec.name).description(spec.description);
  if (existing === undefined) {
    addSharedOptions(group, spec);
    exitTwoOnUsageErrors(group);
  }

  return (name: string, description: string, action: string, build: (command: Command) => (...args: never[]) => RemoteCall<Clients>) => {
    const command = group.command(name).description(description);
    if (existing !== undefined) {
      addSharedOptions(command, spec);
      exitTwoOnUsageErrors(command);
    }
    const makeCall = build(command);
    command.action(async (...args: unknown[]) => {
      const self = args[args.length - 1] as Command;
      const common = self.optsWithGlobals<ClientOptions & { output?: string }>();
      await runAction(`coffer ${spec.name} ${name}`, () => ({ action: `${spec.actionPrefix}:${action}`, listCommand: spec.listCommand }), async () => {
        const format = outputFormat(common.output);
        const call = (makeCall as (...values: unknown[]) => RemoteCall<Clients>)(...args.slice(0, -1));
        const clients = await spec.open(common);
        try {
          await call(clients, format);
        } finally {
          spec.close(clients);
        }
      });
    });
  };
}

function addSharedOptions(command: Command, spec: RemoteGroupSpec<unknown>): void {
  command
    .option('--output <format>', 'table (for people, default) or json (the API answer, for scripts)')
    .option('--region <region>', 'Region (default: the AWS SDK chain: AWS_REGION, the profile, then AWS_DEFAULT_REGION)')
    .option('--endpoint-url <url>', spec.endpointHelp)
    .option('--profile <name>', 'shared config/credentials profile (default: AWS_PROFILE)');
}
