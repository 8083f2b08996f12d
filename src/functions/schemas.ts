import { z } from 'zod';
import { awsBlob, awsBoolean, awsEnum, awsInt, awsMap, awsString } from '../core/index.js';
import { MAX_ZIP_BYTES } from './zip.js';

/**
 * One zod schema per Lambda operation Coffer serves, mirroring the request shapes (path labels, query
 * parameters and headers are members too; see table.ts for where each travels). Members Coffer does not use
 * (MemorySize, Publish, Architectures, VpcConfig, Layers, ...) are accepted and ignored, as a client sends them.
 * https://docs.aws.amazon.com/lambda/latest/api/API_Operations.html
 */

export const INVOCATION_TYPES = ['Event', 'RequestResponse', 'DryRun'] as const;
export const LOG_TYPES = ['None', 'Tail'] as const;

/** A name, partial ARN or ARN, with an optional `:qualifier`. */
const functionName = awsString({ min: 1, max: 170 });
const qualifier = awsString({ min: 1, max: 128 });
const role = awsString({ pattern: /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/ });
const handler = awsString({ max: 128 });
const runtime = awsString({ min: 1, max: 64 });
const description = awsString({ max: 256 });
const timeout = awsInt({ min: 1, max: 900 });
const environment = z.object({
  Variables: awsMap(awsString({ pattern: /^[a-zA-Z]([a-zA-Z0-9_])+$/ }), awsString()).optional(),
});
/** A KMS key ARN, or '' for the default key (aws/lambda). */
const kmsKeyArn = awsString({ pattern: /^(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()$/ });
const zipFile = awsBlob({ max: MAX_ZIP_BYTES });
const revisionId = awsString();
/** A number sent as a query string. */
const queryInt = (options: { min: number; max: number }) =>
  awsString({ pattern: /^\d{1,9}$/ })
    .transform(Number)
    .pipe(awsInt(options));

export const schemas = {
  CreateFunction: z.object({
    FunctionName: functionName,
    Runtime: runtime.optional(),
    Role: role.optional(),
    Handler: handler.optional(),
    Code: z.object({
      ZipFile: zipFile.optional(),
      S3Bucket: awsString().optional(),
      S3Key: awsString().optional(),
      S3ObjectVersion: awsString().optional(),
      ImageUri: awsString().optional(),
    }),
    Description: description.optional(),
    Timeout: timeout.optional(),
    MemorySize: awsInt({ min: 128, max: 10240 }).optional(),
    Publish: awsBoolean().optional(),
    PackageType: awsEnum(['Zip', 'Image']).optional(),
    Environment: environment.optional(),
    KMSKeyArn: kmsKeyArn.optional(),
  }),
  GetFunction: z.object({ FunctionName: functionName, Qualifier: qualifier.optional() }),
  GetFunctionConfiguration: z.object({ FunctionName: functionName, Qualifier: qualifier.optional() }),
  ListFunctions: z.object({ Marker: awsString().optional(), MaxItems: queryInt({ min: 1, max: 10000 }).optional() }),
  UpdateFunctionCode: z.object({
    FunctionName: functionName,
    ZipFile: zipFile.optional(),
    S3Bucket: awsString().optional(),
    S3Key: awsString().optional(),
    S3ObjectVersion: awsString().optional(),
    ImageUri: awsString().optional(),
    Publish: awsBoolean().optional(),
    DryRun: awsBoolean().optional(),
    RevisionId: revisionId.optional(),
  }),
  UpdateFunctionConfiguration: z.object({
    FunctionName: functionName,
    Role: role.optional(),
    Handler: handler.optional(),
    Description: description.optional(),
    Timeout: timeout.optional(),
    MemorySize: awsInt({ min: 128, max: 10240 }).optional(),
    Environment: environment.optional(),
    KMSKeyArn: kmsKeyArn.optional(),
    Runtime: runtime.optional(),
    RevisionId: revisionId.optional(),
  }),
  DeleteFunction: z.object({ FunctionName: functionName, Qualifier: qualifier.optional() }),
  Invoke: z.object({
    FunctionName: functionName,
    InvocationType: awsEnum(INVOCATION_TYPES).optional(),
    LogType: awsEnum(LOG_TYPES).optional(),
    ClientContext: awsString().optional(),
    Qualifier: qualifier.optional(),
    Payload: z.instanceof(Buffer).optional(),
  }),
};

export type Inputs = { [K in keyof typeof schemas]: z.output<(typeof schemas)[K]> };
