/**
 * What the functions service keeps: hosted, HTTP and built-in functions.
 * Domain records, not rows (see ../records.ts).
 */

/** A KMS envelope: the data key as KMS wrapped it, and the value sealed with that data key (iv | tag | ciphertext). */
export type SealedEnvironment = { kmsKeyArn: string; encryptedDataKey: Buffer; sealedValue: Buffer };

/**
 * A rotation function hosted by Coffer: a zip run as a child process, a URL Coffer POSTs to, or one of
 * Coffer's built-in rotators (named by `handler`).
 */
export type FunctionRecord = {
  arn: string;
  accountId: string;
  region: string;
  name: string;
  kind: 'zip' | 'http' | 'builtin';
  runtime?: string;
  handler?: string;
  codeZip?: Buffer;
  codeSha256?: string;
  codeSize: number;
  /**
   * The URL and Environment.Variables in clear: only on rows written before variables were sealed, until the
   * server's start seals them (functions/environment-sealing.ts); the functions service writes them empty.
   */
  url?: string;
  environment: Record<string, string>;
  /** Environment.Variables (with an HTTP function's URL) sealed under KMS; absent when there are none. */
  sealedEnvironment?: SealedEnvironment;
  /** KMSKeyArn as the caller gave it; absent: the account's AWS managed key `alias/aws/lambda`. */
  kmsKeyArn?: string;
  timeoutSeconds: number;
  description: string;
  role?: string;
  createdAt: Date;
  lastModified: Date;
  revisionId: string;
};

/** What updateFunction may change; a field present with `undefined` clears it. */
export type FunctionPatch = Partial<
  Pick<
    FunctionRecord,
    'codeZip' | 'codeSha256' | 'codeSize' | 'url' | 'runtime' | 'handler' | 'environment' | 'sealedEnvironment' | 'kmsKeyArn' | 'timeoutSeconds' | 'description' | 'role' | 'lastModified' | 'revisionId'
  >
>;
