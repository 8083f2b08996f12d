import type { FunctionRecord } from '../store/index.js';
import { LATEST } from './function-name.js';
import { HTTP_RUNTIME, HTTP_URL_VARIABLE } from './runtimes.js';

/**
 * A function as Lambda describes it (FunctionConfiguration). An HTTP function shows as runtime `coffer-http`
 * with its URL in Environment.Variables.COFFER_FUNCTION_URL, the same place it was given.
 * https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html
 */
export function functionConfiguration(record: FunctionRecord) {
  const variables = record.kind === 'http' ? { ...record.environment, [HTTP_URL_VARIABLE]: record.url ?? '' } : record.environment;
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
    Environment: Object.keys(variables).length > 0 ? { Variables: variables } : undefined,
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
