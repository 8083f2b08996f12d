/**
 * Same-run A/B of two parts of the read path, two builds' modules in one process, alternated rounds, medians:
 * the base64 check of a Decrypt's CiphertextBlob, and the KMS check every GetSecretValue makes (the AWS managed
 * key's policy, conditions on kms:CallerAccount and kms:ViaService).
 *   node bench/read-parts-ab.mjs BASE_DIST [CANDIDATE_DIST]   (CANDIDATE_DIST defaults to this checkout's dist)
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
if (!process.argv[2]) throw new Error('usage: node bench/read-parts-ab.mjs BASE_DIST [CANDIDATE_DIST]');
const builds = { base: resolve(process.argv[2]), branch: resolve(process.argv[3] ?? fileURLToPath(new URL('../dist', import.meta.url))) };
const mods = {};
for (const [name, dir] of Object.entries(builds)) {
  mods[name] = { shapes: await import(`file://${dir}/core/shapes.js`), policy: await import(`file://${dir}/policy/index.js`) };
}
const blob = randomBytes(1024 + 61).toString('base64');
const body = JSON.parse(JSON.stringify({ CiphertextBlob: blob }));
// The KMS check of a GetSecretValue: the AWS managed key's policy, conditions on kms:ViaService and kms:CallerAccount.
const managed = (p) => p.compilePolicyText(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'], Resource: '*', Condition: { StringEquals: { 'kms:CallerAccount': '111111111111', 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } } }] })).policy;
const setups = {};
for (const [name, m] of Object.entries(mods)) {
  const policy = managed(m.policy);
  const identity = { principal: { arn: 'arn:aws:iam::111111111111:user/bench', accountId: '111111111111' }, unrestricted: false, policies: [], tags: { team: 'a' }, principalType: 'User', userId: 'AIDABENCH', userName: 'bench' };
  const request = { action: 'kms:Decrypt', resource: 'arn:aws:kms:us-east-1:111111111111:key/k', resourceAccount: '111111111111', resourceKind: 'key-policy', resourcePolicy: policy,
    context: { 'kms:KeySpec': 'SYMMETRIC_DEFAULT', 'kms:KeyUsage': 'ENCRYPT_DECRYPT', 'kms:KeyOrigin': 'AWS_KMS', 'kms:MultiRegion': false, 'kms:MultiRegionKeyType': undefined, 'kms:RequestAlias': undefined, 'kms:EncryptionContext:SecretARN': 'arn:aws:secretsmanager:us-east-1:111111111111:secret:hot-AbCdEf', 'kms:EncryptionContext:SecretVersionId': 'v', 'kms:EncryptionContextKeys': ['SecretARN', 'SecretVersionId'] } };
  const facts = () => ({ currentTime: new Date(), sourceIp: '127.0.0.1', viaService: 'secretsmanager.us-east-1.amazonaws.com', region: 'us-east-1', secureTransport: false });
  setups[name] = {
    'isBase64 of a 1 KiB plaintext\'s ciphertext (1,448 chars)': () => m.shapes.isBase64(body.CiphertextBlob),
    'checkAccess: the KMS check of a GetSecretValue': () => { if (!m.policy.checkAccess(identity, request, facts()).allowed) throw new Error('denied'); },
  };
}
const results = {};
for (const part of Object.keys(setups.base)) for (const name of Object.keys(builds)) { results[`${part}|${name}`] = []; for (let i = 0; i < 20000; i++) setups[name][part](); }
for (let round = 0; round < 21; round++) for (const part of Object.keys(setups.base)) for (const name of Object.keys(builds)) {
  const f = setups[name][part]; const N = 4000; const t = process.hrtime.bigint(); for (let i = 0; i < N; i++) f(); results[`${part}|${name}`].push(Number(process.hrtime.bigint() - t) / N / 1000);
}
const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
console.log('| part | base µs (median of 21) | this branch | ratio |'); console.log('|---|---:|---:|---:|');
for (const part of Object.keys(setups.base)) { const b = median(results[`${part}|base`]); const c = median(results[`${part}|branch`]); console.log(`| ${part} | ${b.toFixed(2)} | ${c.toFixed(2)} | ${(c / b).toFixed(2)} |`); }
