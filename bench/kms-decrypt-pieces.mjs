/**
 * Same-run A/B of the pieces of KMS Decrypt that the kms-decrypt branch changed (blob decode, KeyMaterialId, AAD), with
 * AES-GCM open as a control, two builds' modules in one process, 15 alternated rounds, medians:
 *   node bench/kms-decrypt-pieces.mjs BASE_DIST CANDIDATE_DIST   (absolute paths)
 */
import { randomBytes, randomUUID } from 'node:crypto';
const [baseDir, candDir] = process.argv.slice(2);
const load = async (dir) => ({
  blob: await import(`${dir}/crypto/ciphertext-blob.js`), aead: await import(`${dir}/crypto/aead.js`),
  ec: await import(`${dir}/crypto/encryption-context.js`), id: await import(`${dir}/kms/key-material-id.js`),
});
const mods = { base: await load(baseDir), candidate: await load(candDir) };
const key = randomBytes(32); const ctx = { purpose: 'coffer-bench' };
const keyRecord = { keySpec: 'SYMMETRIC_DEFAULT', origin: 'AWS_KMS' };
const backingKeyId = randomUUID();
const m0 = mods.base;
const header = m0.blob.encodeBlobHeader(randomUUID(), backingKeyId);
const pool = Array.from({ length: 1000 }, () => m0.blob.encodeBlob(header, m0.aead.seal(key, randomBytes(1024), Buffer.concat([header, m0.ec.canonicalEncryptionContext(ctx)]))));
let k = 0; const pick = () => pool[(k = (k + 1) % 1000)];
const aadOf = (m) => m.blob.blobAad ? (h) => m.blob.blobAad(h, ctx) : (h) => Buffer.concat([h, m.ec.canonicalEncryptionContext(ctx)]);
const parts = {};
for (const [name, m] of Object.entries(mods)) {
  const aad = aadOf(m);
  parts[`blob decode|${name}`] = () => m.blob.decodeBlob(pick());
  parts[`AAD (header + canonical context)|${name}`] = () => aad(header);
  parts[`AES-GCM open of 1 KiB|${name}`] = () => { const b = pick(); m.aead.open(key, { iv: b.subarray(33, 45), tag: b.subarray(45, 61), ciphertext: b.subarray(61) }, aad(header)); };
  parts[`KeyMaterialId|${name}`] = () => m.id.keyMaterialIdOf(keyRecord, backingKeyId);
}
const N = 20000;
for (const f of Object.values(parts)) for (let i = 0; i < N; i++) f();
const res = {};
for (let r = 0; r < 15; r++) for (const [n, f] of Object.entries(parts)) { const t = process.cpuUsage(); for (let i = 0; i < N; i++) f(); const u = process.cpuUsage(t); (res[n] ??= []).push((u.user + u.system) / N); }
const med = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
console.log('| piece | base µs | candidate µs | ratio |\n|---|---:|---:|---:|');
for (const piece of [...new Set(Object.keys(res).map((n) => n.split('|')[0]))]) {
  const b = med(res[`${piece}|base`]), c = med(res[`${piece}|candidate`]);
  console.log(`| ${piece} | ${b.toFixed(2)} | ${c.toFixed(2)} | ${(c / b).toFixed(2)} |`);
}
