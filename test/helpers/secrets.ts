import { randomBytes } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { TestServer } from './start-server.js';

/**
 * Helpers shared by the Secrets Manager integration tests: a client for a test server and unique secret names.
 */

export const ACCOUNT_ID = '000000000000';
export const REGION = 'us-east-1';

/** A Secrets Manager client signed with the server's administrator key, no retries. */
export function secretsClient(
  server: TestServer,
  options: { region?: string; credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } } = {},
): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint: server.url,
    region: options.region ?? REGION,
    credentials: options.credentials ?? server.admin,
    maxAttempts: 1,
  });
}

/** A secret name no other test in the same server uses (letters, digits and the allowed punctuation). */
export function uniqueSecretName(label: string): string {
  return `${label}-${randomBytes(5).toString('hex')}`;
}

/** `arn:aws:secretsmanager:us-east-1:000000000000:secret:<name>-XXXXXX`, six letters or digits. */
export function secretArnPattern(name: string): RegExp {
  const escaped = name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`^arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:${escaped}-[A-Za-z0-9]{6}$`);
}

/** Collects every page of a paged call. */
export async function allPages<T>(fetch: (token: string | undefined) => Promise<{ items: T[]; next: string | undefined }>): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const page = await fetch(token);
    items.push(...page.items);
    token = page.next;
  } while (token);
  return items;
}
