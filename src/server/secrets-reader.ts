import { Sensitive, type RequestContext } from '../core/index.js';
import type { SecretsReader } from '../ssm/index.js';

type InvokeSecrets = (ctx: RequestContext, operation: string, input: Record<string, unknown>) => Promise<Record<string, any>>;

/**
 * Parameter Store's SecretsReader port on Secrets Manager: GetSecretValue through the in-process invoker, so the
 * read is authorized as the caller and audited as Secrets Manager's own event (invoked by ssm.amazonaws.com).
 * The answer is wire JSON; the value is wrapped in Sensitive at once.
 */
export function secretsReaderFor(invokeSecrets: InvokeSecrets): SecretsReader {
  return {
    async getSecretValue(ctx, request) {
      const answer = await invokeSecrets(ctx, 'GetSecretValue', request);
      const value = typeof answer.SecretString === 'string' ? answer.SecretString : String(answer.SecretBinary ?? '');
      return {
        arn: answer.ARN,
        name: answer.Name,
        versionId: answer.VersionId,
        createdDate: new Date(Number(answer.CreatedDate) * 1000),
        value: new Sensitive(value),
        sourceResult: new Sensitive(JSON.stringify(answer)),
      };
    },
  };
}
