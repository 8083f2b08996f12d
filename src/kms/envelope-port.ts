import { remembered, Sensitive, type RequestContext } from '../core/index.js';
import { canonicalEncryptionContext, openFromBuffer, sealToBuffer, type EncryptionContext } from '../crypto/index.js';
import { kmsError } from './errors.js';
import type { KmsOperations } from './operations/index.js';

export type Envelope = {
  kmsKeyArn: string;
  /** The data key as KMS encrypted it: a ciphertext blob only this KMS key can open. */
  encryptedDataKey: Buffer;
  /** The value sealed with the plaintext data key (iv | tag | ciphertext), AAD = the encryption context. */
  sealedValue: Buffer;
};

/**
 * What other services (Secrets Manager) may ask of KMS: envelope encryption. Each call goes through the
 * same GenerateDataKey and Decrypt operations the API serves, so key states and errors are KMS's own; the
 * plaintext data key lives only inside these functions and is zeroed before they return.
 */
export interface KmsPort {
  /** `keyReference` undefined means the account's AWS managed key for `service`. */
  sealEnvelope(ctx: RequestContext, keyReference: string | undefined, plaintext: Buffer, context: EncryptionContext): Promise<Envelope>;
  openEnvelope(ctx: RequestContext, envelope: Omit<Envelope, 'kmsKeyArn'>, context: EncryptionContext): Promise<Sensitive<Buffer>>;
  /** Wraps an envelope's data key under another KMS key too (ReEncrypt): the sealed value stays as it is. */
  rewrapDataKey(
    ctx: RequestContext,
    encryptedDataKey: Buffer,
    context: EncryptionContext,
    keyReference: string | undefined,
  ): Promise<Pick<Envelope, 'kmsKeyArn' | 'encryptedDataKey'>>;
}

export function createKmsPort(
  operations: Pick<KmsOperations, 'generateDataKey' | 'decrypt' | 'reEncrypt'>,
  ensureManagedKey: (ctx: RequestContext, service: string) => Promise<string>,
  service: string,
): KmsPort {
  // `<service>.<region>.amazonaws.com` kept per region: the same text every call, where a new one was built per
  // call and flattened again by the key policy's kms:ViaService condition.
  const viaServiceOf = remembered((region) => `${service}.${region}.amazonaws.com`);
  /** Marks the call as made by `service` on the caller's behalf, as kms:ViaService does in AWS. */
  const viaService = (ctx: RequestContext): RequestContext => ({ ...ctx, viaService: viaServiceOf(ctx.region) });
  return {
    async sealEnvelope(callerCtx, keyReference, plaintext, context) {
      const ctx = viaService(callerCtx);
      const keyId = keyReference ?? (await ensureManagedKey(ctx, service));
      const dataKey = await operations.generateDataKey(ctx, { KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context });
      const key = dataKey.Plaintext.reveal();
      try {
        const sealedValue = sealToBuffer(key, plaintext, canonicalEncryptionContext(context));
        return { kmsKeyArn: dataKey.KeyId, encryptedDataKey: dataKey.CiphertextBlob, sealedValue };
      } finally {
        key.fill(0);
      }
    },

    async rewrapDataKey(callerCtx, encryptedDataKey, context, keyReference) {
      const ctx = viaService(callerCtx);
      const keyId = keyReference ?? (await ensureManagedKey(ctx, service));
      const rewrapped = await operations.reEncrypt(ctx, {
        CiphertextBlob: encryptedDataKey as Buffer<ArrayBuffer>,
        SourceEncryptionContext: context,
        DestinationKeyId: keyId,
        DestinationEncryptionContext: context,
      });
      return { kmsKeyArn: rewrapped.KeyId, encryptedDataKey: rewrapped.CiphertextBlob };
    },

    async openEnvelope(callerCtx, envelope, context) {
      const ctx = viaService(callerCtx);
      const dataKey = await operations.decrypt(ctx, { CiphertextBlob: envelope.encryptedDataKey as Buffer<ArrayBuffer>, EncryptionContext: context });
      const key = dataKey.Plaintext.reveal();
      try {
        const plaintext = openFromBuffer(key, envelope.sealedValue, canonicalEncryptionContext(context));
        // The data key opened, so the value itself was altered, cut or moved: a client-side refusal (the service
        // answers its decryption failure), never a server fault.
        if (!plaintext) throw kmsError('InvalidCiphertextException', 'The sealed value does not open with its data key.');
        return new Sensitive(plaintext);
      } finally {
        key.fill(0);
      }
    },
  };
}
