import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellOk } from './aws-cli.js';

/** A copy of `bytes` with the lowest bit of byte `index` flipped. */
export function flipBit(bytes: Uint8Array, index: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
}

/**
 * The `openssl` command, given only the public key (SPKI DER, converted to `pub.pem`) and the signature (`sig`) in
 * `scratch`, verifies with `command` (which reads pub.pem, sig and whatever else the caller wrote there), and
 * refuses the same signature with one bit flipped.
 */
export async function assertOpensslVerifies(scratch: string, publicKeyDer: Uint8Array, signature: Uint8Array, command: string, label: string): Promise<void> {
  writeFileSync(join(scratch, 'pub.der'), publicKeyDer);
  writeFileSync(join(scratch, 'sig'), signature);
  const output = await shellOk(`openssl pkey -pubin -inform DER -in pub.der -out pub.pem && ${command}`, { cwd: scratch });
  assert.match(output, /Verified OK|Signature Verified Successfully/, label);
  writeFileSync(join(scratch, 'sig'), flipBit(signature, Math.min(8, signature.length - 1)));
  await assert.rejects(shellOk(command, { cwd: scratch }), `${label}: openssl refuses a flipped bit`);
}
