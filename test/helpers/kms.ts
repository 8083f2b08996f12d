import assert from 'node:assert/strict';
import { CreateKeyCommand, KMSClient, type CreateKeyCommandInput, type KeyMetadata } from '@aws-sdk/client-kms';

/**
 * Helpers shared by the KMS integration tests: key creation, and one assertion for AWS errors.
 */

/** Creates a symmetric encryption key and returns its metadata. */
export async function createKey(kms: KMSClient, input: CreateKeyCommandInput = {}): Promise<KeyMetadata> {
  const { KeyMetadata: metadata } = await kms.send(new CreateKeyCommand(input));
  assert.ok(metadata?.KeyId && metadata.Arn, 'CreateKey returned no KeyMetadata');
  return metadata;
}

type AwsSdkError = Error & { $metadata?: { httpStatusCode?: number }; message: string };

/**
 * Asserts that a call fails with the given AWS error code (the SDK puts it in `name`) and HTTP status
 * (400 unless told), and returns the error for further checks on its message.
 */
export async function rejectsWith(call: Promise<unknown>, code: string, httpStatusCode = 400): Promise<AwsSdkError> {
  let caught: unknown;
  try {
    await call;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof Error, `expected ${code}, but the call succeeded`);
  const error = caught as AwsSdkError;
  assert.equal(error.name, code, `expected ${code}, got ${error.name}: ${error.message}`);
  assert.equal(error.$metadata?.httpStatusCode, httpStatusCode, `HTTP status of ${code}`);
  return error;
}

/** An alias name no other test in the same server uses. */
export function uniqueAliasName(label: string): string {
  return `alias/${label}-${Math.random().toString(36).slice(2, 10)}`;
}

/** A round second near now: timestamps travel as epoch seconds, so whole seconds compare exactly. */
export function roundSecondNow(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}

export const DAY_MS = 86_400_000;
