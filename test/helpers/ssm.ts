import { randomBytes } from 'node:crypto';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Keys } from './principals.js';
import type { TestServer } from './start-server.js';

/** An SSM client for a test server, signed with the administrator key unless given others; no retries. */
export function ssmClient(server: TestServer, options: { region?: string; credentials?: Keys } = {}): SSMClient {
  return new SSMClient({ endpoint: server.url, region: options.region ?? 'us-east-1', credentials: options.credentials ?? server.admin, maxAttempts: 1 });
}

/** A path no other test in the same server uses: `/<label>-<hex>`. */
export function uniquePath(label: string): string {
  return `/${label}-${randomBytes(4).toString('hex')}`;
}
