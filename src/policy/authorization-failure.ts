/**
 * The details of a refused request, in the shape STS DecodeAuthorizationMessage answers (its DecodedMessage):
 * `{"allowed":false,"explicitDeny":…,"matchedStatements":{"items":[…]},"failures":{"items":[]},"context":
 * {"principal":{"id","arn"},"action","resource","conditions":{"items":[{"key","values":{"items":[{"value"}]}}]}}}`.
 * The conditions are the request context the decision saw (never a secret value: no condition key carries one).
 * A matched statement names its policy and its Sid (or `#<index>`) and effect; the statements' text is not repeated.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html
 */
import { requestContext, type Refusal } from './access.js';
import { simulateAccess } from './simulate.js';

/** Room left for the request context so the sealed blob stays within DecodeAuthorizationMessage's 10,240 characters. */
const MAX_MESSAGE_BYTES = 6000;

export function authorizationFailureMessage({ identity, request, facts, decision }: Refusal): string {
  const simulated = simulateAccess({
    identity,
    request,
    resourcePolicySource: request.resourcePolicy ? { id: 'resource-policy', type: 'resource' } : undefined,
    facts,
  });
  const matched = simulated.matched.map((statement) => {
    const compiled = (statement.source.type === 'resource' ? request.resourcePolicy : undefined)?.statements[statement.statementIndex];
    const sid = compiled?.sid ?? findSid(identity, statement.source.id, statement.statementIndex);
    return {
      statementId: sid ?? `#${statement.statementIndex}`,
      effect: decision.allowed ? 'ALLOW' : 'DENY',
      sourcePolicyId: statement.source.id,
      sourcePolicyType: statement.source.type,
    };
  });
  const context = requestContext(identity, request, facts);
  const conditions: Array<{ key: string; values: { items: Array<{ value: string }> } }> = [];
  for (const [key, value] of Object.entries(context)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [String(value)];
    conditions.push({ key, values: { items: values.map((item) => ({ value: item })) } });
  }
  const message = {
    allowed: decision.allowed,
    explicitDeny: !decision.allowed && decision.reason === 'ExplicitDeny',
    matchedStatements: { items: matched },
    failures: { items: [] as unknown[] },
    context: {
      principal: { id: identity.userId, arn: identity.principal.arn },
      action: request.action,
      resource: request.resource,
      conditions: { items: conditions },
    },
  };
  let text = JSON.stringify(message);
  // A caller with hundreds of tags must not make the blob too long to decode: the last conditions give way.
  while (Buffer.byteLength(text) > MAX_MESSAGE_BYTES && message.context.conditions.items.length > 0) {
    message.context.conditions.items.pop();
    text = JSON.stringify(message);
  }
  return text;
}

function findSid(identity: Refusal['identity'], sourceId: string, index: number): string | undefined {
  const position = identity.sources?.findIndex((source) => source.id === sourceId) ?? -1;
  return position >= 0 ? identity.policies[position]?.statements[index]?.sid : undefined;
}
