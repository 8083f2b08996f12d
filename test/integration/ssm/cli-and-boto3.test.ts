import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { shell, shellOk } from '../../helpers/aws-cli.js';
import { runPythonOk } from '../../helpers/python.js';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * Parameter Store as users drive it: `aws ssm … --endpoint-url` (the README's tour) and boto3 (its paginator,
 * its modelled exceptions).
 */
describe('SSM through the AWS CLI and boto3', () => {
  let server: TestServer;
  let workDir: string;
  let options: Parameters<typeof shellOk>[1];

  before(async () => {
    server = await startTestServer();
    workDir = mkdtempSync(join(tmpdir(), 'coffer-ssm-cli-'));
    options = { cwd: workDir, credentials: server.admin, region: 'us-east-1', env: { COFFER_URL: server.url } };
  });
  after(async () => {
    await server.cleanup();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('aws ssm put-parameter / get-parameter --with-decryption / get-parameters-by-path --recursive', async () => {
    const put = JSON.parse(
      await shellOk('aws ssm put-parameter --name /tour/db/password --type SecureString --value "s3cr3t-tour" --endpoint-url "$COFFER_URL"', options),
    );
    assert.equal(put.Version, 1);
    await shellOk('aws ssm put-parameter --name /tour/db/host --type String --value db.internal --endpoint-url "$COFFER_URL"', options);
    const value = await shellOk(
      'aws ssm get-parameter --name /tour/db/password --with-decryption --query Parameter.Value --output text --endpoint-url "$COFFER_URL"',
      options,
    );
    assert.equal(value.trim(), 's3cr3t-tour');
    const sealed = await shellOk('aws ssm get-parameter --name /tour/db/password --query Parameter.Value --output text --endpoint-url "$COFFER_URL"', options);
    assert.notEqual(sealed.trim(), 's3cr3t-tour');
    // The CLI follows NextToken by itself; a page size of 1 makes it walk two pages.
    const tree = JSON.parse(await shellOk('aws ssm get-parameters-by-path --path /tour --recursive --page-size 1 --endpoint-url "$COFFER_URL"', options));
    assert.deepEqual(
      tree.Parameters.map((parameter: { Name: string }) => parameter.Name),
      ['/tour/db/host', '/tour/db/password'],
    );
    const missing = await shell('aws ssm get-parameter --name /tour/none --endpoint-url "$COFFER_URL"', options);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /ParameterNotFound/);
  });

  it('aws ssm get-parameter reads a Secrets Manager secret through its reference', async () => {
    const sm = secretsClient(server);
    await sm.send(new CreateSecretCommand({ Name: 'tour/api-key', SecretString: 'tour-api-key-value' }));
    sm.destroy();
    const value = await shellOk(
      'aws ssm get-parameter --name /aws/reference/secretsmanager/tour/api-key --with-decryption --query Parameter.Value --output text --endpoint-url "$COFFER_URL"',
      options,
    );
    assert.equal(value.trim(), 'tour-api-key-value');
    const refused = await shell('aws ssm get-parameter --name /aws/reference/secretsmanager/tour/api-key --endpoint-url "$COFFER_URL"', options);
    assert.match(refused.stderr, /ValidationException/);
  });

  it('boto3: put, label, paginate a path, and catch modelled exceptions', async () => {
    const output = await runPythonOk(
      'ssm_sample.py',
      `
import json, boto3
ssm = boto3.client("ssm")
for i in range(5):
    ssm.put_parameter(Name=f"/boto/app/p{i}", Value=f"value-{i}", Type="String")
ssm.put_parameter(Name="/boto/app/p0", Value="value-0b", Overwrite=True)
ssm.label_parameter_version(Name="/boto/app/p0", ParameterVersion=1, Labels=["stable"])
names = []
for page in ssm.get_paginator("get_parameters_by_path").paginate(Path="/boto", Recursive=True, PaginationConfig={"PageSize": 2}):
    names += [p["Name"] for p in page["Parameters"]]
stable = ssm.get_parameter(Name="/boto/app/p0:stable")["Parameter"]["Value"]
errors = []
try:
    ssm.get_parameter(Name="/boto/none")
except ssm.exceptions.ParameterNotFound:
    errors.append("ParameterNotFound")
try:
    ssm.put_parameter(Name="/boto/app/p1", Value="x", Type="String")
except ssm.exceptions.ParameterAlreadyExists:
    errors.append("ParameterAlreadyExists")
try:
    ssm.put_parameter(Name="/" + "/".join(f"l{i}" for i in range(16)), Value="x", Type="String")
except ssm.exceptions.HierarchyLevelLimitExceededException:
    errors.append("HierarchyLevelLimitExceededException")
print(json.dumps({"names": names, "stable": stable, "errors": errors}))
`,
      { cwd: workDir, credentials: server.admin, endpointUrl: server.url },
    );
    const result = JSON.parse(output);
    assert.deepEqual(result.names, ['/boto/app/p0', '/boto/app/p1', '/boto/app/p2', '/boto/app/p3', '/boto/app/p4']);
    assert.equal(result.stable, 'value-0');
    assert.deepEqual(result.errors, ['ParameterNotFound', 'ParameterAlreadyExists', 'HierarchyLevelLimitExceededException']);
  });
});
