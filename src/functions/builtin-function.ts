import { createHash } from 'node:crypto';
import { commonError } from '../core/index.js';
import type { FunctionRecord } from '../store/index.js';
import { lambdaError } from './errors.js';
import type { InvokeOutcome } from './invoke-outcome.js';

/**
 * Built-in functions (Coffer's extension): a deployed function whose code is one of Coffer's own rotators,
 * chosen by its Handler (`postgres-single-user`, ...). It is a function like any other: it has a name, an ARN
 * GetFunction shows, its own execution role (required, as for zip functions) and its own audit identity; the
 * rotator's calls to Secrets Manager run as that role's session. A function named after an AWS template is
 * never replaced by a built-in rotator: only this runtime chooses one.
 */
export const BUILTIN_RUNTIME = 'coffer-builtin';

export const BUILTIN_HAS_NO_CODE = `A ${BUILTIN_RUNTIME} function has no code package; its Handler names the built-in rotator.`;

/** What the functions module is told about the built-in rotators by compose.ts (it cannot import rotation). */
export type BuiltinInvocation = { accountId: string; region: string; rotator: string; principalArn: string; requestId: string };

export type BuiltinRotators = {
  names: readonly string[];
  /** Runs one event through the named rotator as `principalArn`; never throws. */
  run(invocation: BuiltinInvocation, event: unknown): Promise<InvokeOutcome>;
};

/** The Handler of a built-in function: one of the rotators' names. */
export function checkRotatorName(handler: string | undefined, names: readonly string[]): string {
  if (handler === undefined || !names.includes(handler)) {
    throw lambdaError('InvalidParameterValueException', `A ${BUILTIN_RUNTIME} function's Handler names a built-in rotator: ${names.join(', ')}.`);
  }
  return handler;
}

type Common = Omit<FunctionRecord, 'kind' | 'runtime' | 'handler' | 'codeSize' | 'environment'>;
type BuiltinInput = { Role?: string; Handler?: string; Code: { ZipFile?: Uint8Array; S3Bucket?: string; S3Key?: string } };

/** CreateFunction of a built-in function: a role and a rotator, no code. */
export function builtinFunctionRecord(common: Common, input: BuiltinInput, names: readonly string[], environment: Record<string, string>): FunctionRecord {
  if (input.Role === undefined) {
    throw commonError('ValidationException', "1 validation error detected: Value null at 'role' failed to satisfy constraint: Member must not be null");
  }
  if (input.Code.ZipFile || input.Code.S3Bucket !== undefined || input.Code.S3Key !== undefined) {
    throw lambdaError('InvalidParameterValueException', BUILTIN_HAS_NO_CODE);
  }
  const handler = checkRotatorName(input.Handler, names);
  const codeSha256 = createHash('sha256').update(`${BUILTIN_RUNTIME}:${handler}`, 'utf8').digest('base64');
  return { ...common, kind: 'builtin', runtime: BUILTIN_RUNTIME, handler, codeSha256, codeSize: 0, environment };
}
