import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { replaceFileDurably } from '../../core/index.js';
import { SecretsManagerClients, type ClientOptions } from '../aws-clients.js';
import { ReferenceSyntaxError } from '../secret-references.js';
import { renderTemplate, ResolutionError, SecretResolver } from '../secret-resolver.js';

/**
 * `coffer render TEMPLATE [-o FILE]` (docs/ARCHITECTURE.md, "coffer run and coffer render"): the template
 * with every CloudFormation dynamic reference `{{resolve:secretsmanager:…}}` replaced by the secret's value,
 * on stdout or into FILE (mode 0600 from its creation). Every reference is resolved before anything is written:
 * one that fails is named on stderr, exit 1, and FILE is left as it was.
 */

type RenderOptions = ClientOptions & { output?: string };

export function registerRenderCommand(program: Command): void {
  program
    .command('render')
    .description('write a template with its {{resolve:secretsmanager:...}} references replaced by secret values')
    .argument('<template>', 'the template file (- for stdin)')
    .option('-o, --output <file>', 'write here, mode 0600, replacing the file whole (default: stdout)')
    .option('--region <region>', 'Region for secrets named without an ARN (default: the AWS SDK chain: AWS_REGION, the profile)')
    .option('--endpoint-url <url>', "Coffer's URL (default: AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL, the profile's endpoint_url)")
    .option('--profile <name>', 'shared config/credentials profile (default: AWS_PROFILE)')
    .action(async (template: string, options: RenderOptions) => {
      try {
        await render(template, options);
      } catch (error) {
        if (error instanceof ResolutionError || error instanceof ReferenceSyntaxError || error instanceof RenderError) fail(error.message);
        throw error;
      }
    });
}

async function render(templateFile: string, options: RenderOptions): Promise<void> {
  let template: string;
  try {
    template = readFileSync(templateFile === '-' ? 0 : templateFile, 'utf8');
  } catch (error) {
    throw new RenderError(`${templateFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const clients = await SecretsManagerClients.open(options);
  let rendered: string;
  try {
    rendered = await renderTemplate(template, new SecretResolver(clients));
  } finally {
    clients.close();
  }
  if (options.output === undefined) process.stdout.write(rendered);
  else writePrivateFile(options.output, rendered);
}

/**
 * Replaces `file` with `text`, readable by its owner only from the first byte: a new file beside it is created
 * 0600 (O_CREAT|O_EXCL, so nothing else's file is reused), written, synced, then renamed over `file`. An
 * existing `file`, whatever its mode, is never opened for writing, and a failure leaves it as it was. The
 * rendered bytes are zeroed once written.
 */
function writePrivateFile(file: string, text: string): void {
  const temporary = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const bytes = Buffer.from(text, 'utf8');
  try {
    replaceFileDurably(file, bytes, temporary, { exclusive: true });
  } catch (error) {
    throw new RenderError(`${file}: cannot write it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  } finally {
    bytes.fill(0);
  }
}

class RenderError extends Error {}

function fail(message: string): never {
  process.stderr.write(`coffer render: ${message}\n`);
  process.exit(1);
}
