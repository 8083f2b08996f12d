import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { fail, localStoreOptions, openLocalCoffer, type LocalStoreOptions } from '../local-coffer.js';

type SetJwksOptions = LocalStoreOptions & { account: string; url: string; file?: string; clear?: boolean };

/**
 * `coffer oidc set-jwks`: gives an IAM OpenID Connect provider its issuer's signing keys by hand, for an issuer
 * Coffer cannot reach (a Kubernetes API server: `kubectl get --raw /openid/v1/jwks > jwks.json`). A local
 * command on a data dir or the deployment's PostgreSQL, like `coffer accounts create`; the server may be running.
 */
export function registerOidcCommand(program: Command): void {
  const oidc = program.command('oidc').description("manage OpenID Connect providers' signing keys");
  localStoreOptions(
    oidc.command('set-jwks').description("store a provider's JWKS (used instead of fetching the issuer's keys); --clear to fetch them again"),
  )
    .requiredOption('--account <id>', 'the account of the provider (12 digits)')
    .requiredOption('--url <url>', 'the provider URL, as given to CreateOpenIDConnectProvider')
    .option('--file <jwks.json>', 'the JWKS document: {"keys": [...]}, public keys only')
    .option('--clear', 'remove the stored JWKS')
    .action(setJwks);
}

const OUTCOME_MESSAGES = {
  'no-provider': (options: SetJwksOptions) => `account ${options.account} has no OpenID Connect provider for ${options.url} (create it with aws iam create-open-id-connect-provider)`,
  'invalid-url': () => 'the URL is not a provider URL (https://host[/path], no query)',
  'invalid-jwks': () => 'the file is not a JWKS of usable public keys ({"keys": [...]})',
  'private-key': () => 'the file holds private key material; give the public keys only',
} as const;

async function setJwks(options: SetJwksOptions): Promise<void> {
  if (!/^\d{12}$/.test(options.account)) fail('--account must be a 12-digit account id');
  if ((options.file === undefined) === (options.clear === undefined)) fail('give either --file <jwks.json> or --clear');
  let jwks: string | undefined;
  if (options.file !== undefined) {
    try {
      jwks = readFileSync(resolve(options.file), 'utf8');
    } catch (error) {
      fail(`cannot read ${options.file}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const coffer = await openLocalCoffer(options);
  try {
    const outcome = await coffer.oidcProviders.setJwks({ accountId: options.account, url: options.url, jwks });
    if (outcome === 'set') process.stdout.write(`stored the JWKS of ${options.url} in account ${options.account}; its keys are no longer fetched\n`);
    else if (outcome === 'cleared') process.stdout.write(`removed the stored JWKS of ${options.url} in account ${options.account}; its keys are fetched from the issuer again\n`);
    else {
      process.exitCode = 1;
      process.stderr.write(`coffer: ${OUTCOME_MESSAGES[outcome](options)}\n`);
    }
  } finally {
    await coffer.close();
  }
}
