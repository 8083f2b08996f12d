import type { FunctionRecord } from '../store/index.js';
import type { EnvironmentView } from './environment-vault.js';
import { LATEST } from './function-name.js';
import { HTTP_RUNTIME } from './runtimes.js';

/**
 * A function as Lambda describes it (FunctionConfiguration). An HTTP function shows as runtime `coffer-http`
 * with its URL in Environment.Variables.COFFER_FUNCTION_URL, the same place it was given. The variables come
 * opened (environment-vault.ts); KMSKeyArn shows only a customer's key, as Lambda shows it.
 * https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html
 */
export function functionConfiguration(record: FunctionRecord, environment: EnvironmentView) {
  return {
    FunctionName: record.name,
    FunctionArn: record.arn,
    Runtime: record.kind === 'http' ? HTTP_RUNTIME : record.runtime,
    Role: record.role,
    Handler: record.handler,
    CodeSize: record.codeSize,
    Description: record.description,
    Timeout: record.timeoutSeconds,
    MemorySize: 128,
    LastModified: lambdaTimestamp(record.lastModified),
    CodeSha256: record.codeSha256,
    Version: LATEST,
    Environment: environment,
    KMSKeyArn: record.kmsKeyArn,
    TracingConfig: { Mode: 'PassThrough' },
    RevisionId: record.revisionId,
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: ['x86_64'],
    EphemeralStorage: { Size: 512 },
  };
}

/** Lambda's LastModified: ISO-8601 with milliseconds and a `+0000` offset (`2024-05-01T12:00:00.000+0000`). */
export function lambdaTimestamp(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}
