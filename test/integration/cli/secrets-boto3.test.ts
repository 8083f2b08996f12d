import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { createKey } from '../../helpers/kms.js';
import { runPython, runPythonOk, type PythonOptions } from '../../helpers/python.js';
import { secretArnPattern, secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const PYTHON_TIMEOUT_MS = 60_000;

/**
 * seeds/000 (gistfile2.txt): create_secret and get_secret, verbatim except for the two placeholders the
 * seed asks its reader to fill in: `kms_key_id` (a real key, created first) and `secretid`, which the
 * gist's reader pastes from create_secret's output; the driver below rebinds it to the ARN create_secret
 * returned, then calls the seed's lambda_handler unchanged.
 */
function gistScript(kmsKeyId: string): string {
  return `import json
import boto3

client = boto3.client('secretsmanager')

kms_key_id = '${kmsKeyId}'

def create_secret():
    try:
        response = client.create_secret(
        Name='ssn001',
        Description='testing secret manager',
        KmsKeyId=kms_key_id,
        #if you do not want to show the string below, get from SSM (parameter store secureString.)
        SecretString='{ "shan": "0001", "neill": "0002", "tom": "0003" }',
        Tags=[
            {
                'Key': 'purpose',
                'Value': 'testing'
            },
        ]
        )
        return(response)
    except Exception as e: print(e)

secretid ='arn:aws:secretsmanager:us-east-1:xxxxxxxx43:secret:ssn001-xxxxx'

def get_secret():
    try:
        response = client.get_secret_value(
        SecretId=secretid,
        VersionStage='AWSCURRENT',
        )
        return response
    except Exception as e: print(e)

def lambda_handler(event,context):
    try:
        response = create_secret()
        print(response['ARN'])
        response = get_secret()
        print(response['SecretString'])
    except Exception as e: print(e)

# --- test driver: get_secret reads the ARN that create_secret returned.
_seed_create_secret = create_secret

def create_secret():
    global secretid
    response = _seed_create_secret()
    secretid = response['ARN']
    return response

lambda_handler({}, None)
`;
}

/** seeds/001, "Accessing Secrets in Code (Python)", verbatim, then a driver that prints the result. */
const CHAPTER_SCRIPT = `import json
import boto3

def get_db_credentials(secret_name):
    client = boto3.client('secretsmanager', region_name='us-east-1')
    
    response = client.get_secret_value(SecretId=secret_name)
    secret = json.loads(response['SecretString'])
    
    return {
        'host': secret['host'],
        'username': secret['username'],
        'password': secret['password'],
        'port': secret.get('port', 3306)
    }

# Lambda handler example
def handler(event, context):
    creds = get_db_credentials('prod/db/mysql')
    # Use creds to connect to database

# --- test driver
if __name__ == '__main__':
    creds = get_db_credentials('prod/db/mysql')
    print(json.dumps(creds))
    print(type(creds['port']).__name__)
    handler({}, None)
    print('handler ok')
`;

/** seeds/003, "Example 2: Retrieving a Secret in Python": get_secret() verbatim, then a driver. */
const GET_SECRET_SCRIPT = `import boto3
import json
from botocore.exceptions import ClientError

def get_secret():
    secret_name = "prod/myapp/mysql"
    region_name = "us-east-1"
  
    # Create a Secrets Manager client
    session = boto3.session.Session()
    client = session.client(
        service_name='secretsmanager',
        region_name=region_name
    )
  
    try:
        # Get the secret value
        get_secret_value_response = client.get_secret_value(
            SecretId=secret_name
        )
    except ClientError as e:
        # Handle exceptions accordingly
        print(f"Error retrieving secret: {e}")
        raise e
    else:
        # Decode and parse the secret if it's a string
        if 'SecretString' in get_secret_value_response:
            secret = get_secret_value_response['SecretString']
            return json.loads(secret)
        else:
            # For binary secrets
            decoded_binary_secret = base64.b64decode(get_secret_value_response['SecretBinary'])
            return decoded_binary_secret

# --- test driver
if __name__ == '__main__':
    print(json.dumps(get_secret()))
`;

/** The chapter's function asked for a secret that does not exist: the error boto3 raises. */
const MISSING_SECRET_SCRIPT = `import json
import boto3
from botocore.exceptions import ClientError

def get_db_credentials(secret_name):
    client = boto3.client('secretsmanager', region_name='us-east-1')
    
    response = client.get_secret_value(SecretId=secret_name)
    secret = json.loads(response['SecretString'])
    
    return {
        'host': secret['host'],
        'username': secret['username'],
        'password': secret['password'],
        'port': secret.get('port', 3306)
    }

try:
    get_db_credentials('prod/db/absent')
    print('no error')
except ClientError as e:
    client = boto3.client('secretsmanager', region_name='us-east-1')
    print(json.dumps({
        'code': e.response['Error']['Code'],
        'message': e.response['Error']['Message'],
        'status': e.response['ResponseMetadata']['HTTPStatusCode'],
        'modeled': isinstance(e, client.exceptions.ResourceNotFoundException),
    }))
`;

/**
 * The Python samples of the seed documents, written to files and run with `python3` against a real Coffer
 * server. boto3 takes the endpoint from AWS_ENDPOINT_URL (boto3 1.28 and later), so the samples run
 * without a single edit for the endpoint.
 */
describe('boto3 against Coffer: the seed Python samples', () => {
  let server: TestServer;
  let sm: SecretsManagerClient;
  let workDir: string;
  let options: PythonOptions;

  before(async () => {
    server = await startTestServer();
    sm = secretsClient(server);
    workDir = mkdtempSync(join(tmpdir(), 'coffer-secrets-boto3-'));
    options = { cwd: workDir, credentials: server.admin, endpointUrl: server.url, region: 'us-east-1', timeoutMs: PYTHON_TIMEOUT_MS };
  });
  after(async () => {
    sm?.destroy();
    await server?.cleanup();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('the machine has python3 with a boto3 that honours AWS_ENDPOINT_URL (1.28 or later)', () => {
    const version = execFileSync('python3', ['-c', 'import boto3; print(boto3.__version__)'], { encoding: 'utf8', timeout: PYTHON_TIMEOUT_MS }).trim();
    const [major, minor] = version.split('.').map(Number) as [number, number];
    assert.ok(major > 1 || (major === 1 && minor >= 28), `boto3 ${version} ignores AWS_ENDPOINT_URL`);
  });

  it('seeds/000 gist: create_secret with a real KMS key, then get_secret by the returned ARN and AWSCURRENT', async () => {
    const key = await createKey(server.kms(), { Description: 'gist CMK for ssn001' });
    const result = await runPython('gist_create_get.py', gistScript(key.KeyId!), options);
    assert.equal(result.code, 0, `python3 exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
    assert.equal(result.stderr, '');

    // The seed prints exceptions instead of raising them, so the printed lines are the whole story.
    const lines = result.stdout.split('\n');
    assert.equal(lines.length, 3, `expected two printed lines, got:\n${result.stdout}`);
    const [arn, secretString, rest] = lines as [string, string, string];
    assert.match(arn, secretArnPattern('ssn001'));
    assert.equal(secretString, '{ "shan": "0001", "neill": "0002", "tom": "0003" }');
    assert.equal(rest, '');

    // What the gist created, seen through another client.
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 'ssn001' }));
    assert.equal(described.ARN, arn);
    assert.equal(described.Name, 'ssn001');
    assert.equal(described.Description, 'testing secret manager');
    assert.ok(
      described.KmsKeyId === key.KeyId || described.KmsKeyId === key.Arn,
      `DescribeSecret KmsKeyId ${described.KmsKeyId} is not the key ${key.KeyId}`,
    );
    assert.deepEqual(described.Tags, [{ Key: 'purpose', Value: 'testing' }]);
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: arn }));
    assert.equal(versions.Versions?.length, 1);
    assert.deepEqual(versions.Versions![0]!.VersionStages, ['AWSCURRENT']);
    assert.deepEqual(versions.Versions![0]!.KmsKeyIds, [key.Arn], 'the version is sealed under the gist\'s key');
  });

  it('seeds/001 chapter: get_db_credentials(\'prod/db/mysql\') returns the dict, port a number', async () => {
    await sm.send(
      new CreateSecretCommand({
        Name: 'prod/db/mysql',
        Description: 'Production MySQL credentials',
        SecretString: '{"username":"admin","password":"P@ssw0rd2024","host":"mydb.cluster-abc.us-east-1.rds.amazonaws.com","port":3306}',
      }),
    );
    const stdout = await runPythonOk('get_db_credentials.py', CHAPTER_SCRIPT, options);
    const [json, portType, handler, rest] = stdout.split('\n');
    assert.deepEqual(JSON.parse(json!), {
      host: 'mydb.cluster-abc.us-east-1.rds.amazonaws.com',
      username: 'admin',
      password: 'P@ssw0rd2024',
      port: 3306,
    });
    assert.equal(portType, 'int', 'the seed secret\'s port is a JSON number, so Python sees an int');
    assert.equal(handler, 'handler ok');
    assert.equal(rest, '');
  });

  it('seeds/003 example 2: get_secret() parses prod/myapp/mysql', async () => {
    await sm.send(
      new CreateSecretCommand({
        Name: 'prod/myapp/mysql',
        Description: 'MySQL credentials for production MyApp',
        SecretString: '{"username":"admin","password":"t0p-s3cr3t","host":"mydb.example.com","port":"3306","dbname":"myapp"}',
      }),
    );
    const stdout = await runPythonOk('get_secret.py', GET_SECRET_SCRIPT, options);
    assert.deepEqual(JSON.parse(stdout), {
      username: 'admin',
      password: 't0p-s3cr3t',
      host: 'mydb.example.com',
      port: '3306',
      dbname: 'myapp',
    });
    const check = await sm.send(new GetSecretValueCommand({ SecretId: 'prod/myapp/mysql' }));
    assert.equal(check.VersionStages?.[0], 'AWSCURRENT');
  });

  it('a missing secret reaches boto3 as its modeled ResourceNotFoundException', async () => {
    const result = await runPython('missing_secret.py', MISSING_SECRET_SCRIPT, options);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), {
      code: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
      status: 400,
      modeled: true,
    });
  });
});
