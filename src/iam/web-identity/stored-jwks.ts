import type { OidcProviderRepository } from '../../store/index.js';
import { publicKeyOf } from './jwt.js';
import { providerArn, providerKeyOf } from './issuer-urls.js';
import { parseJwks } from './signing-keys.js';

/** JWK members that hold private key material: a key set given to Coffer must hold public keys only. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

export type SetJwksOutcome = 'set' | 'cleared' | 'no-provider' | 'invalid-url' | 'invalid-jwks' | 'private-key';

/**
 * Gives a provider its issuer's signing keys by hand (`coffer oidc set-jwks`), for an issuer Coffer cannot reach:
 * a Kubernetes API server's service account issuer, read with `kubectl get --raw /openid/v1/jwks`. The stored set
 * is then used instead of fetching; undefined clears it (the keys are fetched again). The set is checked first:
 * JSON `{"keys": [...]}`, every key a usable public key, none holding private members.
 */
export async function setStoredJwks(
  store: Pick<OidcProviderRepository, 'setOidcProviderJwks'>,
  change: { accountId: string; url: string; jwks: string | undefined },
): Promise<SetJwksOutcome> {
  // Any provider that exists was accepted when it was created; the URL only has to name it.
  const key = providerKeyOf(change.url, { allowLoopbackHttp: true });
  if ('problem' in key) return 'invalid-url';
  let text: string | undefined;
  if (change.jwks !== undefined) {
    const keys = parseJwks(change.jwks);
    if (!keys || keys.length === 0) return 'invalid-jwks';
    if (keys.some((jwk) => PRIVATE_MEMBERS.some((member) => member in jwk))) return 'private-key';
    if (keys.some((jwk) => publicKeyOf(jwk) === undefined)) return 'invalid-jwks';
    text = JSON.stringify({ keys });
  }
  const updated = await store.setOidcProviderJwks(change.accountId, providerArn(change.accountId, key.key), text);
  if (!updated) return 'no-provider';
  return text === undefined ? 'cleared' : 'set';
}
