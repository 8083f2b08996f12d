/**
 * @module rotation/rotators
 * The rotation functions built into Coffer: PostgreSQL and MySQL/MariaDB, single user and alternating users,
 * each following the AWS template of the same kind (SecretsManagerRDSPostgreSQLRotationSingleUser, ...). A
 * built-in rotator runs only when a deployed function chooses it explicitly (Runtime `coffer-builtin`,
 * Handler one of the names below); a function's name never does. Each follows the template's four steps
 * (four-step.ts), talking to Secrets Manager only through the SecretsCaller it is handed and to the
 * database through postgres.ts or mysql.ts. It imports only core and the rotation types; never secrets,
 * store or server internals.
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
 * Built-in rotators by the Handler of a `coffer-builtin` function. The MySQL rotators serve MariaDB too, as
 * AWS's MariaDB templates are its MySQL ones.
 */
export const builtInRotators: Record<string, Rotator> = Object.freeze({
  'postgres-single-user': createDatabaseRotator({ engine: postgresEngine, strategy: singleUser }),
  'postgres-multi-user': createDatabaseRotator({ engine: postgresEngine, strategy: alternatingUsers }),
  'mysql-single-user': mysqlSingleUser,
  'mysql-multi-user': mysqlMultiUser,
});
