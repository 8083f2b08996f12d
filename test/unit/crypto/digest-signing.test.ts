import assert from 'node:assert/strict';
import { constants, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as signWith, verify as verifyWith } from 'node:crypto';
import { describe, it } from 'node:test';
import { loadDigestSigner, type DigestSigner } from '../../../src/crypto/index.js';

function signer(): DigestSigner {
  const loaded = loadDigestSigner();
  assert.ok(loaded.signer, 'the kms-digest addon is built by npm ci');
  return loaded.signer;
}

/** RFC 8032, section 7.3: the Ed25519ph test vector ("abc"). */
const RFC8032_PH = {
  secretKey: '833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42',
  publicKey: 'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf',
  message: '616263',
  signature:
    '98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41' + '31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406',
};

/** PKCS #8 (RFC 8410) and SPKI DER of an Ed25519 key from its raw 32-byte seed and public key. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

describe('kms-digest addon (crypto/digest-signing.ts)', () => {
  it('Ed25519ph: the RFC 8032 test vector, signing the SHA-512 digest of "abc"', () => {
    const privateKey = Buffer.concat([ED25519_PKCS8_PREFIX, Buffer.from(RFC8032_PH.secretKey, 'hex')]);
    const publicKey = Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(RFC8032_PH.publicKey, 'hex')]);
    // The public key node derives from the secret key is the vector's.
    assert.deepEqual(createPublicKey(createPrivateKey({ key: privateKey, format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' }), publicKey);
    const digest = createHash('sha512').update(Buffer.from(RFC8032_PH.message, 'hex')).digest();
    const signature = signer().signDigest(privateKey, digest, { scheme: 'ed25519ph' });
    assert.equal(signature.toString('hex'), RFC8032_PH.signature);
    assert.equal(signer().verifyDigest(publicKey, digest, Buffer.from(RFC8032_PH.signature, 'hex'), { scheme: 'ed25519ph' }), true);
    assert.equal(signer().verifyDigest(publicKey, createHash('sha512').update('abd').digest(), signature, { scheme: 'ed25519ph' }), false);
  });

  it('RSASSA-PSS and ECDSA over a digest: node:crypto verifies over the message, and the addon verifies node:crypto signatures', () => {
    const message = Buffer.from('the message');
    const pairs = [
      { type: 'rsa', options: { modulusLength: 2048 }, scheme: 'pss' as const },
      { type: 'ec', options: { namedCurve: 'secp256k1' }, scheme: 'ecdsa' as const },
      { type: 'ec', options: { namedCurve: 'P-384' }, scheme: 'ecdsa' as const },
    ];
    for (const { type, options, scheme } of pairs) {
      const { privateKey, publicKey } = generateKeyPairSync(type as 'rsa', options as { modulusLength: number });
      const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
      const spki = publicKey.export({ format: 'der', type: 'spki' });
      for (const hash of ['sha256', 'sha384', 'sha512'] as const) {
        const digest = createHash(hash).update(message).digest();
        const nodeOptions =
          scheme === 'pss'
            ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
            : { dsaEncoding: 'der' as const };
        const signature = signer().signDigest(pkcs8, digest, { scheme, hash });
        assert.equal(verifyWith(hash, message, { key: publicKey, ...nodeOptions }, signature), true, `${scheme} ${hash}`);
        const nodeSignature = signWith(hash, message, { key: privateKey, ...nodeOptions });
        assert.equal(signer().verifyDigest(spki, digest, nodeSignature, { scheme, hash }), true, `${scheme} ${hash}`);
        assert.equal(signer().verifyDigest(spki, digest, Buffer.from([0x30, 0x00]), { scheme, hash }), false, 'a malformed signature is invalid');
      }
    }
  });

  it('ML-DSA external μ: a signature of μ is a pure ML-DSA signature of the message', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ml-dsa-65');
    const message = Buffer.from('external mu');
    const pk = Buffer.from(publicKey.export({ format: 'jwk' }).pub as string, 'base64url');
    const tr = createHash('shake256', { outputLength: 64 }).update(pk).digest();
    const mu = createHash('shake256', { outputLength: 64 }).update(tr).update(Buffer.from([0, 0])).update(message).digest();
    const signature = signer().signDigest(privateKey.export({ format: 'der', type: 'pkcs8' }), mu, { scheme: 'mldsa-mu' });
    assert.equal(verifyWith(null, message, publicKey, signature), true);
    assert.equal(signer().verifyDigest(publicKey.export({ format: 'der', type: 'spki' }), mu, signWith(null, message, privateKey), { scheme: 'mldsa-mu' }), true);
  });

  it('throws on a bad key, a wrong digest length or a key of another type, without key bytes in the message', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
    const secretHex = pkcs8.subarray(-32).toString('hex');
    const attempts: Array<() => unknown> = [
      () => signer().signDigest(Buffer.from('not a key'), Buffer.alloc(32), { scheme: 'ecdsa', hash: 'sha256' }),
      () => signer().signDigest(pkcs8, Buffer.alloc(31), { scheme: 'ecdsa', hash: 'sha256' }),
      () => signer().signDigest(pkcs8, Buffer.alloc(32), { scheme: 'pss', hash: 'sha256' }),
      () => signer().signDigest(pkcs8, Buffer.alloc(64), { scheme: 'ed25519ph' }),
      () => signer().signDigest(pkcs8, Buffer.alloc(64), { scheme: 'mldsa-mu' }),
    ];
    for (const attempt of attempts) {
      assert.throws(attempt, (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ERR_KMS_DIGEST');
        assert.match(error.message, /^kms-digest: /);
        assert.ok(!error.message.includes(secretHex) && !error.message.toLowerCase().includes(secretHex.slice(0, 16)));
        return true;
      });
    }
  });

  it('reports why it cannot load rather than throwing', () => {
    const loaded = loadDigestSigner('/nonexistent/kms_digest.node');
    assert.equal(loaded.signer, undefined);
    assert.match(loaded.signer === undefined ? loaded.reason : '', /could not be loaded/);
  });
});
