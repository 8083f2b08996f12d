import type { ZodType } from 'zod';
import { cloudTrailTable } from '../../../src/audit/index.js';
import type { RestRoute, ServiceTable } from '../../../src/core/index.js';
import { lambdaTable } from '../../../src/functions/table.js';
import { iamSchemas, stsSchemas } from '../../../src/iam/schemas.js';
import { kmsTable } from '../../../src/kms/table.js';
import { secretsTable } from '../../../src/secrets/table.js';
import { ssmTable } from '../../../src/ssm/table.js';

/** How a call is placed on HTTP: AWS JSON 1.1 (X-Amz-Target), AWS Query (IAM, STS) or REST-JSON (Lambda). */
export type WireProtocol = 'json' | 'query' | 'rest';

/** One operation the fuzzer calls: where it sits on the wire and the schema its input is parsed with. */
export type FuzzOperation = {
  protocol: WireProtocol;
  /** The SigV4 signing name (credential scope service). */
  service: string;
  name: string;
  schema: ZodType;
  /** JSON 1.1: the X-Amz-Target prefix. */
  targetPrefix?: string;
  /** Query: the API version. */
  version?: string;
  /** REST-JSON: the route. */
  route?: RestRoute;
};

/**
 * The operation tables exactly as the server builds them (each service's table function), with operations that are
 * never run: only the names and schemas are read. IAM and STS build their tables inside createIamService, from
 * iamSchemas and stsSchemas keyed by operation name, which are read here instead.
 */
export function fuzzOperations(): FuzzOperation[] {
  const neverRun = new Proxy({}, { get: () => () => undefined }) as any;
  const jsonTables: ServiceTable[] = [kmsTable(neverRun), secretsTable(neverRun), ssmTable(neverRun), cloudTrailTable({ store: neverRun })];
  const json = jsonTables.flatMap((table) =>
    Object.entries(table.operations).map(([name, spec]) => ({ protocol: 'json' as const, service: table.signingName, name, schema: spec.schema, targetPrefix: table.targetPrefix })),
  );
  const query = [
    ...Object.entries(iamSchemas).map(([name, schema]) => ({ protocol: 'query' as const, service: 'iam', name, schema: schema as ZodType, version: '2010-05-08' })),
    ...Object.entries(stsSchemas).map(([name, schema]) => ({ protocol: 'query' as const, service: 'sts', name, schema: schema as ZodType, version: '2011-06-15' })),
  ];
  const lambda = lambdaTable(neverRun);
  const rest = lambda.routes.map((route) => ({ protocol: 'rest' as const, service: lambda.signingName, name: route.operation, schema: lambda.operations[route.operation]!.schema, route }));
  return [...json, ...query, ...rest];
}
