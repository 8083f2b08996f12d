import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runPythonOk } from '../../helpers/python.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * boto3, as a user's script calls it, through every operation the asymmetric, HMAC, imported-material,
 * multi-Region and replica-secret work added: each answer is checked in the script against what only the
 * client can know (its own peer key, its own imported material, the public key's verdict), and the script
 * prints one JSON summary the test checks again.
 */
const SCRIPT = String.raw`
import base64, json, os, boto3
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

kms = boto3.client('kms')
west = boto3.client('kms', region_name='eu-west-1')
sm = boto3.client('secretsmanager')
sm_west = boto3.client('secretsmanager', region_name='eu-west-1')
out = {}

# RSA encryption: encrypt offline with GetPublicKey's key, decrypt in Coffer.
rsa = kms.create_key(KeySpec='RSA_2048', KeyUsage='ENCRYPT_DECRYPT')['KeyMetadata']
public = serialization.load_der_public_key(kms.get_public_key(KeyId=rsa['KeyId'])['PublicKey'])
blob = public.encrypt(b'offline', padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
out['rsa'] = kms.decrypt(KeyId=rsa['KeyId'], CiphertextBlob=blob, EncryptionAlgorithm='RSAES_OAEP_SHA_256')['Plaintext'].decode()

# ECDSA: Sign in Coffer, verify with the public key alone and with Verify; a DIGEST too.
signer = kms.create_key(KeySpec='ECC_NIST_P256', KeyUsage='SIGN_VERIFY')['KeyMetadata']
signature = kms.sign(KeyId=signer['KeyId'], Message=b'hello', MessageType='RAW', SigningAlgorithm='ECDSA_SHA_256')['Signature']
serialization.load_der_public_key(kms.get_public_key(KeyId=signer['KeyId'])['PublicKey']).verify(signature, b'hello', ec.ECDSA(hashes.SHA256()))
digest = hashes.Hash(hashes.SHA256()); digest.update(b'hello')
out['verify'] = kms.verify(KeyId=signer['KeyId'], Message=digest.finalize(), MessageType='DIGEST', SigningAlgorithm='ECDSA_SHA_256', Signature=signature)['SignatureValid']

# ML-DSA: post-quantum signatures.
mldsa = kms.create_key(KeySpec='ML_DSA_65', KeyUsage='SIGN_VERIFY')['KeyMetadata']
pq = kms.sign(KeyId=mldsa['KeyId'], Message=b'pq', MessageType='RAW', SigningAlgorithm='ML_DSA_SHAKE_256')['Signature']
out['mldsa'] = kms.verify(KeyId=mldsa['KeyId'], Message=b'pq', MessageType='RAW', SigningAlgorithm='ML_DSA_SHAKE_256', Signature=pq)['SignatureValid']

# HMAC.
hmac = kms.create_key(KeySpec='HMAC_256', KeyUsage='GENERATE_VERIFY_MAC')['KeyMetadata']
mac = kms.generate_mac(KeyId=hmac['KeyId'], Message=b'm', MacAlgorithm='HMAC_SHA_256')['Mac']
out['mac'] = kms.verify_mac(KeyId=hmac['KeyId'], Message=b'm', MacAlgorithm='HMAC_SHA_256', Mac=mac)['MacValid']
try:
    kms.verify_mac(KeyId=hmac['KeyId'], Message=b'other', MacAlgorithm='HMAC_SHA_256', Mac=mac)
    out['badMac'] = 'accepted'
except ClientError as error:
    out['badMac'] = error.response['Error']['Code']

# ECDH with the client's own peer key.
agreement = kms.create_key(KeySpec='ECC_NIST_P256', KeyUsage='KEY_AGREEMENT')['KeyMetadata']
peer = ec.generate_private_key(ec.SECP256R1())
peer_der = peer.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
shared = kms.derive_shared_secret(KeyId=agreement['KeyId'], KeyAgreementAlgorithm='ECDH', PublicKey=peer_der)['SharedSecret']
kms_public = serialization.load_der_public_key(kms.get_public_key(KeyId=agreement['KeyId'])['PublicKey'])
out['ecdh'] = shared == peer.exchange(ec.ECDH(), kms_public)

# Data key pairs under a symmetric key.
symmetric = kms.create_key()['KeyMetadata']
pair = kms.generate_data_key_pair(KeyId=symmetric['KeyId'], KeyPairSpec='RSA_2048')
out['pair'] = kms.decrypt(CiphertextBlob=pair['PrivateKeyCiphertextBlob'])['Plaintext'] == pair['PrivateKeyPlaintext']
without = kms.generate_data_key_pair_without_plaintext(KeyId=symmetric['KeyId'], KeyPairSpec='ECC_NIST_P256')
out['pairWithoutPlaintext'] = 'PrivateKeyPlaintext' not in without and len(without['PublicKey']) > 0

# Imported material: the client's own 32 bytes; a ciphertext of it survives delete and re-import.
external = kms.create_key(Origin='EXTERNAL')['KeyMetadata']
material = os.urandom(32)
def import_material():
    params = kms.get_parameters_for_import(KeyId=external['KeyId'], WrappingAlgorithm='RSAES_OAEP_SHA_256', WrappingKeySpec='RSA_3072')
    wrapping = serialization.load_der_public_key(params['PublicKey'])
    wrapped = wrapping.encrypt(material, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
    kms.import_key_material(KeyId=external['KeyId'], ImportToken=params['ImportToken'], EncryptedKeyMaterial=wrapped, ExpirationModel='KEY_MATERIAL_DOES_NOT_EXPIRE')
import_material()
sealed = kms.encrypt(KeyId=external['KeyId'], Plaintext=b'imported')['CiphertextBlob']
kms.delete_imported_key_material(KeyId=external['KeyId'])
out['afterDelete'] = kms.describe_key(KeyId=external['KeyId'])['KeyMetadata']['KeyState']
import_material()
out['imported'] = kms.decrypt(CiphertextBlob=sealed)['Plaintext'].decode()

# Multi-Region keys: a ciphertext made in one Region decrypts in the other; the primary moves.
mrk = kms.create_key(MultiRegion=True)['KeyMetadata']
kms.replicate_key(KeyId=mrk['KeyId'], ReplicaRegion='eu-west-1')
crossing = kms.encrypt(KeyId=mrk['KeyId'], Plaintext=b'crossing')['CiphertextBlob']
out['mrk'] = west.decrypt(CiphertextBlob=crossing)['Plaintext'].decode()
kms.update_primary_region(KeyId=mrk['KeyId'], PrimaryRegion='eu-west-1')
out['mrkPrimary'] = kms.describe_key(KeyId=mrk['KeyId'])['KeyMetadata']['MultiRegionConfiguration']['PrimaryKey']['Region']

# GetKeyLastUsage and custom key stores.
out['lastUsage'] = kms.get_key_last_usage(KeyId=signer['KeyId']).get('KeyLastUsage', {}).get('Operation')
out['customKeyStores'] = kms.describe_custom_key_stores()['CustomKeyStores']

# Replica secrets.
name = 'boto3/replicated-' + os.urandom(4).hex()
sm.create_secret(Name=name, SecretString='v1', AddReplicaRegions=[{'Region': 'eu-west-1'}])
sm.put_secret_value(SecretId=name, SecretString='v2')
out['replicaValue'] = sm_west.get_secret_value(SecretId=name)['SecretString']
sm.replicate_secret_to_regions(SecretId=name, AddReplicaRegions=[{'Region': 'ap-southeast-2'}])
out['replicaRegions'] = sorted(r['Region'] + ':' + r['Status'] for r in sm.describe_secret(SecretId=name)['ReplicationStatus'])
sm.remove_regions_from_replication(SecretId=name, RemoveReplicaRegions=['ap-southeast-2'])
sm_west.stop_replication_to_replica(SecretId=name)
out['promoted'] = sm_west.describe_secret(SecretId=name)['PrimaryRegion']
out['primaryReplicas'] = sm.describe_secret(SecretId=name).get('ReplicationStatus', [])
print(json.dumps(out))
`;

describe('boto3 through every operation the issue added', () => {
  let server: TestServer;
  let scratch: string;

  before(async () => {
    server = await startTestServer();
    scratch = mkdtempSync(join(tmpdir(), 'coffer-boto3-'));
  });
  after(async () => {
    await server.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('answers each as AWS does, checked against what only the client knows', { timeout: 120_000 }, async () => {
    const output = await runPythonOk('every_new_operation.py', SCRIPT, { cwd: scratch, credentials: server.admin, endpointUrl: server.url });
    const result = JSON.parse(output.trim().split('\n').at(-1)!);
    assert.deepEqual(result, {
      rsa: 'offline',
      verify: true,
      mldsa: true,
      mac: true,
      badMac: 'KMSInvalidMacException',
      ecdh: true,
      pair: true,
      pairWithoutPlaintext: true,
      afterDelete: 'PendingImport',
      imported: 'imported',
      mrk: 'crossing',
      mrkPrimary: 'eu-west-1',
      lastUsage: 'Verify',
      customKeyStores: [],
      replicaValue: 'v2',
      replicaRegions: ['ap-southeast-2:InSync', 'eu-west-1:InSync'],
      promoted: 'eu-west-1',
      primaryReplicas: [],
    });
  });
});
