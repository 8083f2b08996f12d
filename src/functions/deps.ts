import type { Logger, RequestContext, Sensitive } from '../core/index.js';
import type { FunctionsRepository, SealedEnvironment } from '../store/index.js';
import type { BuiltinRotators } from './builtin-function.js';

/** The temporary credentials of a function's execution-role session, started per invocation. */
export type MintedCredentials = { accessKeyId: string; secretAccessKey: Sensitive<string>; sessionToken: Sensitive<string> };

/**
 * Lambda's use of execution roles, implemented by iam and wired in compose.ts (functions never imports iam): the
 * role must exist in the function's account and its trust policy must allow `lambda.amazonaws.com`
 * sts:AssumeRole. https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
 */
export interface ExecutionRoles {
  /** Whether Lambda may assume `roleArn` for a function of `accountId`. */
  mayAssume(accountId: string, roleArn: string): Promise<boolean>;
  /**
   * A session of the role named `sessionName` (`arn:aws:sts::<account>:assumed-role/<role>/<sessionName>`), expiring
   * `ttlMs` from now; undefined when Lambda may not assume the role (any more).
   */
  startSession(accountId: string, roleArn: string, sessionName: string, ttlMs: number): Promise<MintedCredentials | undefined>;
}

/**
 * KMS envelope encryption for a function's variables: kms's `KmsPort` for service `lambda`, wired by compose.ts
 * (functions never imports kms). `keyReference` undefined means the account's `alias/aws/lambda`.
 */
export interface EnvironmentKmsPort {
  sealEnvelope(ctx: RequestContext, keyReference: string | undefined, plaintext: Buffer, context: Record<string, string>): Promise<SealedEnvironment>;
  openEnvelope(ctx: RequestContext, envelope: Omit<SealedEnvironment, 'kmsKeyArn'>, context: Record<string, string>): Promise<Sensitive<Buffer>>;
}

/**
 * What the functions service needs: its repository, KMS for variables, execution-role sessions (and a sweep of
 * expired keys), and where Coffer listens.
 */
export type FunctionsDeps = {
  store: FunctionsRepository;
  kms: EnvironmentKmsPort;
  logger: Logger;
  executionRoles: ExecutionRoles;
  /** Deletes the expired session keys of invocations (auth's, wired in compose.ts); returns how many. */
  deleteExpiredCredentials: (now: Date) => Promise<number>;
  /** Coffer's own URL as a child process reaches it (AWS_ENDPOINT_URL); known once the server listens. */
  endpointUrl: () => string | undefined;
  /** Where code is unpacked and invocations get their home directory; default a fresh dir under os.tmpdir(). */
  workDir?: string;
  /** The interpreter for python3.x runtimes; default `python3` from PATH. */
  pythonCommand?: string;
  /** The interpreter for nodejs20.x; default the Node that runs Coffer. */
  nodeCommand?: string;
  /** Child processes (and HTTP calls) running at once on this node; more get TooManyRequestsException. */
  maxConcurrentInvocations?: number;
  /** The rotators a `coffer-builtin` function may name, and how to run one (rotation's, wired by compose.ts). */
  builtins?: BuiltinRotators;
  /** Where each invocation's log lines are kept (the last few per function); none when unset. */
  logDir?: string;
};
