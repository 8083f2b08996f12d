/**
 * @module rotation/rotators
 * The rotation functions built into Coffer, under the names of AWS's rotation templates, so a
 * RotationLambdaARN `arn:aws:lambda:<region>:<account>:function:SecretsManagerRDSPostgreSQLRotationSingleUser`
 * works as it does in AWS: PostgreSQL and MySQL/MariaDB, single user and alternating users. Each follows the
 * template's four steps (four-step.ts), talking to Secrets Manager only through the SecretsCaller it is handed
 * and to the database through postgres.ts or mysql.ts. It imports only core and the rotation types; never
 * secrets, store or server internals.
 * https://github.com/aws-samples/aws-secrets-manager-rotation-lambdas
 */
import type { Rotator } from '../rotator.js';
import { alternatingUsers } from './alternating-users.js';
import { createDatabaseRotator } from './four-step.js';
import { mysqlEngine } from './mysql.js';
import { postgresEngine } from './postgres.js';
import { singleUser } from './single-user.js';

export { createDatabaseRotator, DEFAULT_CONNECT_TIMEOUT_MS, type DatabaseRotatorOptions, type RotationStrategy } from './four-step.js';
export { RotatorError } from './errors.js';
export { postgresEngine } from './postgres.js';
export { mysqlEngine } from './mysql.js';
export { singleUser } from './single-user.js';
export { alternatingUsers } from './alternating-users.js';

const mysqlSingleUser = createDatabaseRotator({ engine: mysqlEngine, strategy: singleUser });
const mysqlMultiUser = createDatabaseRotator({ engine: mysqlEngine, strategy: alternatingUsers });

/**
 * Built-in rotators by the name a RotationLambdaARN ends with. AWS also publishes the MySQL templates as
 * SecretsManagerRDSMariaDBRotation*, so those names work too.
 */
export const builtInRotators: Record<string, Rotator> = Object.freeze({
  SecretsManagerRDSPostgreSQLRotationSingleUser: createDatabaseRotator({ engine: postgresEngine, strategy: singleUser }),
  SecretsManagerRDSPostgreSQLRotationMultiUser: createDatabaseRotator({ engine: postgresEngine, strategy: alternatingUsers }),
  SecretsManagerRDSMySQLRotationSingleUser: mysqlSingleUser,
  SecretsManagerRDSMySQLRotationMultiUser: mysqlMultiUser,
  SecretsManagerRDSMariaDBRotationSingleUser: mysqlSingleUser,
  SecretsManagerRDSMariaDBRotationMultiUser: mysqlMultiUser,
});
