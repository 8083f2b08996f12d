import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateGrantCommand,
  DisableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateMacCommand,
  VerifyMacCommand,
  type KeyMetadata,
  type KMSClient,
  type MacAlgorithmSpec,
} from '@aws-sdk/client-kms';
import { auditEvents } from '../../helpers/audit.js';
import { shellOk } from '../../helpers/aws-cli.js';
import { createKey, rejectsWith } from '../../helpers/kms.js';
import { runPythonOk } from '../../helpers/python.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

let server: TestServer;
let kms: KMSClient;
let symmetric: KeyMetadata;
const hmacKeys = new Map<string, KeyMetadata>();

/** Each HMAC key spec, its one MAC algorithm and the MAC's length in bytes. */
const SPECS = [
  { spec: 'HMAC_224', algorithm: 'HMAC_SHA_224', bytes: 28 },
  { spec: 'HMAC_256', algorithm: 'HMAC_SHA_256', bytes: 32 },
  { spec: 'HMAC_384', algorithm: 'HMAC_SHA_384', bytes: 48 },
  { spec: 'HMAC_512', algorithm: 'HMAC_SHA_512', bytes: 64 },
] as const;

before(async () => {
  server = await startTestServer();
  kms = server.kms();
  symmetric = await createKey(kms, { Description: 'symmetric' });
  for (const { spec } of SPECS) {
    hmacKeys.set(spec, await createKey(kms, { KeySpec: spec, KeyUsage: 'GENERATE_VERIFY_MAC', Description: spec }));
  }
});
after(async () => server.cleanup());

function hmacKey(spec: string): KeyMetadata {
  return hmacKeys.get(spec)!;
}

async function generateMac(keyId: string, message: Buffer, algorithm: MacAlgorithmSpec): Promise<Buffer> {
  const result = await kms.send(new GenerateMacCommand({ KeyId: keyId, Message: message, MacAlgorithm: algorithm }));
  return Buffer.from(result.Mac!);
}

function flipped(bytes: Buffer, offset = 0): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset] = copy[offset]! ^ 0x01;
  return copy;
}

describe('GenerateMac and VerifyMac', () => {
  for (const { spec, algorithm, bytes } of SPECS) {
    it(`${spec}: ${algorithm} MACs of ${bytes} bytes, verified by VerifyMac`, async () => {
      const key = hmacKey(spec);
      const message = Buffer.from(`message for ${spec}`);
      const generated = await kms.send(new GenerateMacCommand({ KeyId: key.KeyId, Message: message, MacAlgorithm: algorithm }));
      assert.equal(generated.KeyId, key.Arn);
      assert.equal(generated.MacAlgorithm, algorithm);
      assert.equal(generated.Mac!.length, bytes);

      const verified = await kms.send(new VerifyMacCommand({ KeyId: key.KeyId, Message: message, MacAlgorithm: algorithm, Mac: generated.Mac }));
      assert.deepEqual({ KeyId: verified.KeyId, MacValid: verified.MacValid, MacAlgorithm: verified.MacAlgorithm }, {
        KeyId: key.Arn,
        MacValid: true,
        MacAlgorithm: algorithm,
      });
    });
  }

  it('the same message gives the same MAC; another message or another key gives another', async () => {
    const message = Buffer.from('deterministic');
    const first = await generateMac(hmacKey('HMAC_256').KeyId!, message, 'HMAC_SHA_256');
    assert.deepEqual(await generateMac(hmacKey('HMAC_256').Arn!, message, 'HMAC_SHA_256'), first);
    assert.notDeepEqual(await generateMac(hmacKey('HMAC_256').KeyId!, Buffer.from('deterministiC'), 'HMAC_SHA_256'), first);
    const otherKey = await createKey(kms, { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    assert.notDeepEqual(await generateMac(otherKey.KeyId!, message, 'HMAC_SHA_256'), first);
    await rejectsWith(
      kms.send(new VerifyMacCommand({ KeyId: otherKey.KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_256', Mac: first })),
      'KMSInvalidMacException',
    );
  });

  it('a flipped bit, a truncated MAC or another message fails with KMSInvalidMacException', async () => {
    const key = hmacKey('HMAC_384').KeyId!;
    const message = Buffer.from('integrity');
    const mac = await generateMac(key, message, 'HMAC_SHA_384');
    const verify = (candidate: Uint8Array, text: Uint8Array = message) =>
      kms.send(new VerifyMacCommand({ KeyId: key, Message: text, MacAlgorithm: 'HMAC_SHA_384', Mac: candidate }));
    await rejectsWith(verify(flipped(mac, 0)), 'KMSInvalidMacException');
    await rejectsWith(verify(flipped(mac, mac.length - 1)), 'KMSInvalidMacException');
    await rejectsWith(verify(Buffer.from(mac.subarray(0, 32))), 'KMSInvalidMacException');
    await rejectsWith(verify(Buffer.concat([mac, Buffer.of(0)])), 'KMSInvalidMacException');
    await rejectsWith(verify(mac, flipped(message, 3)), 'KMSInvalidMacException');
    assert.equal((await verify(mac)).MacValid, true);
  });

  it('a MAC algorithm of another size is refused with InvalidKeyUsageException, in AWS words', async () => {
    const key = hmacKey('HMAC_224');
    const error = await rejectsWith(
      kms.send(new GenerateMacCommand({ KeyId: key.KeyId, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256' })),
      'InvalidKeyUsageException',
    );
    assert.equal(error.message, 'Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224.');
    const mac = await generateMac(hmacKey('HMAC_256').KeyId!, Buffer.from('m'), 'HMAC_SHA_256');
    const verifyError = await rejectsWith(
      kms.send(new VerifyMacCommand({ KeyId: hmacKey('HMAC_256').KeyId, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_512', Mac: mac })),
      'InvalidKeyUsageException',
    );
    assert.equal(verifyError.message, 'Algorithm HMAC_SHA_512 is incompatible with key spec HMAC_256.');
  });

  it('a symmetric encryption key cannot make MACs, and an HMAC key cannot encrypt', async () => {
    const error = await rejectsWith(
      kms.send(new GenerateMacCommand({ KeyId: symmetric.KeyId, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256' })),
      'InvalidKeyUsageException',
    );
    assert.equal(error.message, `${symmetric.Arn} key usage is ENCRYPT_DECRYPT which is not valid for GenerateMac.`);
    await rejectsWith(
      kms.send(new VerifyMacCommand({ KeyId: symmetric.KeyId, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256', Mac: Buffer.alloc(32) })),
      'InvalidKeyUsageException',
    );
    await rejectsWith(kms.send(new EncryptCommand({ KeyId: hmacKey('HMAC_256').KeyId, Plaintext: Buffer.from('m') })), 'InvalidKeyUsageException');
    await rejectsWith(kms.send(new GenerateDataKeyCommand({ KeyId: hmacKey('HMAC_256').KeyId, KeySpec: 'AES_256' })), 'InvalidKeyUsageException');
  });

  it('Message must be 1 to 4096 bytes; an unknown algorithm is a ValidationException', async () => {
    const key = hmacKey('HMAC_256').KeyId!;
    assert.equal((await generateMac(key, Buffer.alloc(4096, 7), 'HMAC_SHA_256')).length, 32);
    await rejectsWith(kms.send(new GenerateMacCommand({ KeyId: key, Message: Buffer.alloc(4097), MacAlgorithm: 'HMAC_SHA_256' })), 'ValidationException');
    await rejectsWith(kms.send(new GenerateMacCommand({ KeyId: key, Message: Buffer.alloc(0), MacAlgorithm: 'HMAC_SHA_256' })), 'ValidationException');
    await rejectsWith(
      kms.send(new GenerateMacCommand({ KeyId: key, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_MD5' as MacAlgorithmSpec })),
      'ValidationException',
    );
  });

  it('DryRun stops after the checks; a disabled key is refused', async () => {
    const key = await createKey(kms, { KeySpec: 'HMAC_512', KeyUsage: 'GENERATE_VERIFY_MAC' });
    await rejectsWith(
      kms.send(new GenerateMacCommand({ KeyId: key.KeyId, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_512', DryRun: true })),
      'DryRunOperationException',
      412,
    );
    await rejectsWith(
      kms.send(new GenerateMacCommand({ KeyId: key.KeyId, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256', DryRun: true })),
      'InvalidKeyUsageException',
    );
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    await rejectsWith(kms.send(new GenerateMacCommand({ KeyId: key.KeyId, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_512' })), 'DisabledException');
    await rejectsWith(
      kms.send(new VerifyMacCommand({ KeyId: key.KeyId, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_512', Mac: Buffer.alloc(64) })),
      'DisabledException',
    );
  });

  it('the audit event keeps neither the message nor the MAC', async () => {
    const message = Buffer.from('audit-me-not: a secret message');
    const result = await kms.send(new GenerateMacCommand({ KeyId: hmacKey('HMAC_256').KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_256' }));
    const event = auditEvents(server.dataDir).find((candidate) => candidate.requestID === result.$metadata.requestId);
    assert.ok(event, 'the call was audited');
    assert.equal(event.eventName, 'GenerateMac');
    const text = JSON.stringify(event);
    assert.ok(!text.includes(message.toString('base64')) && !text.includes('audit-me-not'), 'no message in the event');
    assert.ok(!text.includes(Buffer.from(result.Mac!).toString('base64')), 'no MAC in the event');
  });
});

describe('grants', () => {
  it('a grant for GenerateMac and VerifyMac lets a caller the key policy does not allow use an HMAC key', async () => {
    const root = 'arn:aws:iam::000000000000:root';
    // The key policy lets the account root manage the key but not make or check MACs.
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: root }, NotAction: ['kms:GenerateMac', 'kms:VerifyMac'], Resource: '*' }],
    });
    const key = await createKey(kms, { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Policy: policy });
    const message = Buffer.from('granted');
    await rejectsWith(kms.send(new GenerateMacCommand({ KeyId: key.KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_256' })), 'AccessDeniedException');
    await kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: root, Operations: ['GenerateMac'] }));
    const mac = await generateMac(key.KeyId!, message, 'HMAC_SHA_256');
    await rejectsWith(
      kms.send(new VerifyMacCommand({ KeyId: key.KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_256', Mac: mac })),
      'AccessDeniedException',
    );
    await kms.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: root, Operations: ['VerifyMac'] }));
    const verified = await kms.send(new VerifyMacCommand({ KeyId: key.KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_256', Mac: mac }));
    assert.equal(verified.MacValid, true);
  });
});

describe('clients', () => {
  it('boto3 generate_mac and verify_mac, and KMSInvalidMacException as a ClientError', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'coffer-kms-mac-'));
    try {
      const stdout = await runPythonOk(
        'mac.py',
        `import boto3
kms = boto3.client('kms')
key_id = '${hmacKey('HMAC_256').KeyId}'
mac = kms.generate_mac(KeyId=key_id, Message=b'hello from boto3', MacAlgorithm='HMAC_SHA_256')
print(len(mac['Mac']), mac['MacAlgorithm'])
ok = kms.verify_mac(KeyId=key_id, Message=b'hello from boto3', MacAlgorithm='HMAC_SHA_256', Mac=mac['Mac'])
print(ok['MacValid'])
try:
    kms.verify_mac(KeyId=key_id, Message=b'hello from boto3!', MacAlgorithm='HMAC_SHA_256', Mac=mac['Mac'])
    print('verified?')
except kms.exceptions.KMSInvalidMacException as error:
    print(error.response['Error']['Code'])
`,
        { cwd: workDir, credentials: server.admin, endpointUrl: server.url },
      );
      assert.deepEqual(stdout.trim().split('\n'), ['32 HMAC_SHA_256', 'True', 'KMSInvalidMacException']);
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });

  it('aws kms generate-mac gives the MAC the SDK gets', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'coffer-kms-mac-cli-'));
    try {
      const key = hmacKey('HMAC_512');
      const result = JSON.parse(
        await shellOk(
          `printf 'from the cli' > message.txt && aws kms generate-mac --key-id ${key.KeyId} --message fileb://message.txt --mac-algorithm HMAC_SHA_512 --endpoint-url "$COFFER_URL"`,
          { cwd: workDir, credentials: server.admin, region: 'us-east-1', env: { COFFER_URL: server.url } },
        ),
      ) as { Mac: string; MacAlgorithm: string; KeyId: string };
      assert.equal(result.KeyId, key.Arn);
      assert.equal(result.MacAlgorithm, 'HMAC_SHA_512');
      assert.deepEqual(Buffer.from(result.Mac, 'base64'), await generateMac(key.KeyId!, Buffer.from('from the cli'), 'HMAC_SHA_512'));
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});
