import { AuthorizationMessageSealer, type Keyring } from '../crypto/index.js';
import type { AuthorizationMessageDecoder } from '../iam/index.js';
import { authorizationFailureMessage, type AuthorizationMessageEncoder } from '../policy/index.js';

/**
 * How long an encoded authorization failure message can be decoded. AWS does not say; an hour is enough to act on
 * a refusal just seen, and bounds how long an old message (with the request context of its day) stays readable.
 */
export const AUTHORIZATION_MESSAGE_TTL_MS = 60 * 60 * 1000;

/**
 * The encoded authorization failure messages: policy's encoder (used by the authorizer only with
 * `--encode-authorization-messages`) and iam's decoder (STS DecodeAuthorizationMessage) over one sealer. The sealed
 * text carries the refused principal's account beside the decoded message, so iam decodes it for that account only.
 */
export function createAuthorizationMessages(keyring: Keyring): AuthorizationMessageEncoder & AuthorizationMessageDecoder & { close(): void } {
  const sealer = new AuthorizationMessageSealer(keyring);
  return {
    encode(refusal, now) {
      const sealed = { accountId: refusal.identity.principal.accountId, decodedMessage: authorizationFailureMessage(refusal) };
      return sealer.seal(JSON.stringify(sealed), new Date(now.getTime() + AUTHORIZATION_MESSAGE_TTL_MS));
    },
    decode(blob, now) {
      const opened = sealer.open(blob, now);
      if (opened === undefined) return undefined;
      const failure = JSON.parse(opened) as { accountId: string; decodedMessage: string };
      return { accountId: failure.accountId, decodedMessage: failure.decodedMessage };
    },
    close: () => sealer.close(),
  };
}
