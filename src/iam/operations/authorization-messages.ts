import type { RequestContext } from '../../core/index.js';
import type { IamDeps } from '../deps.js';
import { stsError } from '../errors.js';
import type { StsInput } from '../schemas.js';

/**
 * STS DecodeAuthorizationMessage, authorized as sts:DecodeAuthorizationMessage on `*` by the pipeline. A message
 * is decoded only for a caller of the account whose request was refused: another tenant of this server gets
 * InvalidAuthorizationMessageException, as for a blob that is not one (it learns nothing of the other account).
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html
 */
export function authorizationMessageOperations(deps: Pick<IamDeps, 'authorizationMessages'>) {
  return {
    decodeAuthorizationMessage(ctx: RequestContext, input: StsInput<'DecodeAuthorizationMessage'>) {
      const failure = deps.authorizationMessages?.decode(input.EncodedMessage, ctx.clock.now());
      if (!failure || failure.accountId !== ctx.principal.accountId) {
        throw stsError('InvalidAuthorizationMessageException', 'The encoded message is not a valid authorization message of this server, or it has expired.');
      }
      return { DecodedMessage: failure.decodedMessage };
    },
  };
}
