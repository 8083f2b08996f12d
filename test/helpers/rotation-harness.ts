import { randomUUID } from 'node:crypto';
import * as sdk from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { RotationEvent, Rotator, SecretsCaller } from '../../src/rotation/rotator.js';

/**
 * Drives a rotator the way the runner does, but by hand: each step in order, with a SecretsCaller that talks
 * to a real Coffer server through the AWS SDK. Outputs are the SDK's (the members rotators read, ARN, Name,
 * VersionId, SecretString, VersionStages, VersionIdsToStages, RandomPassword, are the same as on the wire);
 * errors are rethrown as the in-process caller throws them, with `.code`.
 */
export function sdkSecretsCaller(client: SecretsManagerClient): SecretsCaller {
  return async (operation, input) => {
    const Command = (sdk as unknown as Record<string, new (input: unknown) => sdk.GetSecretValueCommand>)[`${operation}Command`];
    if (!Command) throw Object.assign(new Error(`no SDK command for ${operation}`), { code: 'UnknownOperationException' });
    try {
      const { $metadata, ...output } = (await client.send(new Command(input))) as Record<string, unknown> & { $metadata: unknown };
      void $metadata;
      return output;
    } catch (error) {
      const name = (error as { name?: string }).name ?? 'Error';
      throw Object.assign(new Error((error as Error).message), { code: name });
    }
  };
}

export const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

export function event(secretId: string, token: string, step: RotationEvent['Step']): RotationEvent {
  return { SecretId: secretId, ClientRequestToken: token, Step: step };
}

/** Runs the four steps in order with a new token; returns the token. */
export async function rotate(rotator: Rotator, secrets: SecretsCaller, secretId: string, token = randomUUID()): Promise<string> {
  for (const step of STEPS) await rotator.runStep(event(secretId, token, step), secrets);
  return token;
}

export type StagedValue = { versionId: string; json: Record<string, unknown> };

/** The version a stage points at, with its JSON; undefined when the stage is on no version. */
export async function valueAt(client: SecretsManagerClient, secretId: string, stage: string): Promise<StagedValue | undefined> {
  try {
    const output = await client.send(new sdk.GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }));
    return { versionId: output.VersionId!, json: JSON.parse(output.SecretString!) };
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

/** VersionIdsToStages of DescribeSecret. */
export async function stagesOf(client: SecretsManagerClient, secretId: string): Promise<Record<string, string[]>> {
  const output = await client.send(new sdk.DescribeSecretCommand({ SecretId: secretId }));
  return output.VersionIdsToStages ?? {};
}

/** Creates a secret holding `json`; returns its ARN. */
export async function createJsonSecret(client: SecretsManagerClient, name: string, json: Record<string, unknown>): Promise<string> {
  const output = await client.send(new sdk.CreateSecretCommand({ Name: name, SecretString: JSON.stringify(json) }));
  return output.ARN!;
}

/** Asserts that a promise rejects within `ms`; returns the error and how long it took. */
export async function rejectsWithin(promise: Promise<unknown>, ms: number): Promise<{ error: Error; elapsedMs: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (error) {
    const elapsedMs = Date.now() - started;
    if (elapsedMs > ms) throw new Error(`rejected only after ${elapsedMs} ms (limit ${ms} ms): ${(error as Error).message}`);
    return { error: error as Error, elapsedMs };
  }
  throw new Error('expected a rejection');
}
