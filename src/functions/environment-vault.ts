import { randomUUID } from 'node:crypto';
import { accountRootArn, AwsError, type Clock, type Logger, type RequestContext } from '../core/index.js';
import type { FunctionRecord, SealedEnvironment } from '../store/index.js';
import type { FunctionsDeps } from './deps.js';
import { lambdaError, type LambdaErrorCode } from './errors.js';
import { HTTP_URL_VARIABLE } from './runtimes.js';

/** Environment.Variables as the wire carries them (an HTTP function's URL among them). */
export type Variables = Record<string, string>;

/** FunctionConfiguration's Environment: the variables, or why they could not be opened. */
export type EnvironmentView = { Variables?: Variables; Error?: { ErrorCode: string; Message: string } } | undefined;

/**
 * A function's variables at rest are one KMS envelope (the whole Variables map as JSON), sealed under the
 * function's KMSKeyArn or the account's AWS managed key `alias/aws/lambda`, with the encryption context
 * `aws:lambda:FunctionArn` as Lambda uses, so a sealed row copied to another function does not open.
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html
 */
export function createEnvironmentVault(kms: FunctionsDeps['kms']) {
  const contextOf = (functionArn: string) => ({ 'aws:lambda:FunctionArn': functionArn });

  async function seal(ctx: RequestContext, functionArn: string, kmsKeyArn: string | undefined, variables: Variables): Promise<SealedEnvironment | undefined> {
    if (Object.keys(variables).length === 0) return undefined;
    const plaintext = Buffer.from(JSON.stringify(variables), 'utf8');
    try {
      return await kms.sealEnvelope(ctx, kmsKeyArn, plaintext, contextOf(functionArn));
    } catch (error) {
      throw asLambdaKmsError(error, 'encrypt');
    } finally {
      plaintext.fill(0);
    }
  }

  /** The variables in clear; rows from before sealing carry them in clear columns. Throws Lambda's KMS errors. */
  async function open(ctx: RequestContext, record: FunctionRecord): Promise<Variables> {
    if (!record.sealedEnvironment) {
      return record.kind === 'http' && record.url !== undefined ? { ...record.environment, [HTTP_URL_VARIABLE]: record.url } : record.environment;
    }
    let opened: Buffer | undefined;
    try {
      opened = (await kms.openEnvelope(ctx, record.sealedEnvironment, contextOf(record.arn))).reveal();
      return JSON.parse(opened.toString('utf8')) as Variables;
    } catch (error) {
      throw asLambdaKmsError(error, 'decrypt');
    } finally {
      opened?.fill(0);
    }
  }

  return {
    seal,
    open,

    /** What GetFunction shows: the variables, or Lambda's Environment.Error when KMS refuses to open them. */
    async view(ctx: RequestContext, record: FunctionRecord): Promise<EnvironmentView> {
      try {
        const variables = await open(ctx, record);
        return Object.keys(variables).length > 0 ? { Variables: variables } : undefined;
      } catch (error) {
        if (error instanceof AwsError) return { Error: { ErrorCode: error.code, Message: error.message } };
        throw error;
      }
    },

    /** The record a run needs: variables and URL in clear, opened as the function's own account (Lambda's role). */
    async openForRun(ctx: RequestContext, record: FunctionRecord): Promise<FunctionRecord> {
      const variables = await open(ownerContext(record, ctx.clock, ctx.requestId), record);
      if (record.kind !== 'http') return { ...record, environment: variables };
      const { [HTTP_URL_VARIABLE]: url, ...environment } = variables;
      return { ...record, environment, url };
    },

    /**
     * Seals the variables of functions stored in clear before sealing existed (first start after the
     * upgrade), each under its account's `alias/aws/lambda`, and empties their clear columns.
     */
    async sealClearEnvironments(store: FunctionsDeps['store'], clock: Clock, logger: Logger): Promise<number> {
      const records = await store.listFunctionsWithClearEnvironment();
      let sealedCount = 0;
      for (const record of records) {
        const ctx = ownerContext(record, clock, randomUUID());
        try {
          const sealedEnvironment = await seal(ctx, record.arn, record.kmsKeyArn, await open(ctx, record));
          await store.updateFunction(record.accountId, record.region, record.name, { sealedEnvironment, environment: {}, url: undefined });
          sealedCount += 1;
        } catch (error) {
          // The row stays as it was (readable, in clear) and the next start tries again: a start is not refused for it.
          logger.error('could not seal a function\'s variables stored in clear', { functionArn: record.arn, error: error instanceof Error ? error.message : String(error) });
        }
      }
      if (sealedCount > 0) logger.info('sealed the variables of functions stored in clear', { functions: sealedCount });
      return sealedCount;
    },
  };
}

export type EnvironmentVault = ReturnType<typeof createEnvironmentVault>;

/** The function's account root in its region: how Lambda itself reaches the key to run or reseal a function. */
function ownerContext(record: FunctionRecord, clock: Clock, requestId: string): RequestContext {
  return {
    requestId,
    principal: { accountId: record.accountId, arn: accountRootArn(record.accountId), accessKeyId: '' },
    region: record.region,
    clock,
    access: { checks: 0 },
  };
}

/** KMS's refusals under the codes Lambda uses for them (HTTP 502), e.g. KMSDisabledException. */
const LAMBDA_KMS_CODES: Record<string, LambdaErrorCode> = {
  DisabledException: 'KMSDisabledException',
  KMSInvalidStateException: 'KMSInvalidStateException',
  NotFoundException: 'KMSNotFoundException',
  AccessDeniedException: 'KMSAccessDeniedException',
};

function asLambdaKmsError(error: unknown, action: 'encrypt' | 'decrypt'): unknown {
  if (!(error instanceof AwsError)) return error;
  const code = LAMBDA_KMS_CODES[error.code] ?? 'KMSAccessDeniedException';
  return lambdaError(code, `Lambda was unable to ${action} the environment variables because KMS refused: ${error.code}: ${error.message}`);
}
