import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddTagsToResourceCommand,
  DeleteParameterCommand,
  DeleteParametersCommand,
  DescribeParametersCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  LabelParameterVersionCommand,
  ListTagsForResourceCommand,
  PutParameterCommand,
  RemoveTagsFromResourceCommand,
  UnlabelParameterVersionCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { ManualClock } from '../../helpers/clock.js';
import { refusal } from '../../helpers/principals.js';
import { ssmClient, uniquePath } from '../../helpers/ssm.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * Parameter Store through @aws-sdk/client-ssm against a real server: every operation on String and StringList
 * parameters, versions and labels, paths and paging, filters, tags, policies, and AWS's errors.
 */
describe('SSM Parameter Store (SDK)', () => {
  let server: TestServer;
  let ssm: SSMClient;
  const clock = new ManualClock(new Date('2026-06-01T00:00:00Z'));

  before(async () => {
    server = await startTestServer({ clock, parameterLimits: { maxVersions: 3, maxStandardParameters: 100 } });
    ssm = ssmClient(server);
  });
  after(async () => server.cleanup());

  it('creates, reads, overwrites and keeps each version with its own attributes', async () => {
    const name = `${uniquePath('basic')}/greeting`;
    const created = await ssm.send(new PutParameterCommand({ Name: name, Value: 'hello', Type: 'String', Description: 'first' }));
    assert.deepEqual([created.Version, created.Tier], [1, 'Standard']);
    const again = await refusal(ssm.send(new PutParameterCommand({ Name: name, Value: 'x', Type: 'String' })));
    assert.equal(again.name, 'ParameterAlreadyExists');
    const second = await ssm.send(new PutParameterCommand({ Name: name, Value: 'a,b,c', Overwrite: true, Description: 'second' }));
    assert.equal(second.Version, 2);
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name }));
    assert.equal(Parameter?.Value, 'a,b,c');
    assert.equal(Parameter?.Type, 'String');
    assert.equal(Parameter?.Version, 2);
    assert.equal(Parameter?.ARN, `arn:aws:ssm:us-east-1:000000000000:parameter${name}`);
    assert.equal(Parameter?.DataType, 'text');
    const history = await ssm.send(new GetParameterHistoryCommand({ Name: name }));
    assert.deepEqual(
      history.Parameters?.map((version) => [version.Version, version.Value, version.Description]),
      [
        [1, 'hello', 'first'],
        [2, 'a,b,c', 'second'],
      ],
    );
    assert.match(history.Parameters![0]!.LastModifiedUser!, /^arn:aws:iam::000000000000:/);
    const list = await ssm.send(new PutParameterCommand({ Name: `${name}-list`, Value: 'x,y', Type: 'StringList' }));
    assert.equal(list.Version, 1);
    assert.equal((await ssm.send(new GetParameterCommand({ Name: `${name}-list` }))).Parameter?.Type, 'StringList');
  });

  it('refuses a new parameter without a type and a change of type', async () => {
    const name = uniquePath('types');
    assert.equal((await refusal(ssm.send(new PutParameterCommand({ Name: name, Value: 'x' })))).name, 'ValidationException');
    await ssm.send(new PutParameterCommand({ Name: name, Value: 'x', Type: 'String' }));
    const changed = await refusal(ssm.send(new PutParameterCommand({ Name: name, Value: 'y', Type: 'StringList', Overwrite: true })));
    assert.equal(changed.name, 'HierarchyTypeMismatchException');
  });

  it('reads a version by number or label; labels move, follow the rules and the 10-label limit', async () => {
    const name = uniquePath('labels');
    for (const value of ['v1', 'v2', 'v3']) await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
    assert.equal((await ssm.send(new GetParameterCommand({ Name: `${name}:1` }))).Parameter?.Value, 'v1');
    const labelled = await ssm.send(new LabelParameterVersionCommand({ Name: name, ParameterVersion: 1, Labels: ['prod', '1bad', 'awsx'] }));
    assert.deepEqual([labelled.ParameterVersion, labelled.InvalidLabels], [1, ['1bad', 'awsx']]);
    const byLabel = await ssm.send(new GetParameterCommand({ Name: `${name}:prod` }));
    assert.deepEqual([byLabel.Parameter?.Value, byLabel.Parameter?.Selector], ['v1', ':prod']);
    // Without a version the label goes to the latest, leaving version 1.
    assert.equal((await ssm.send(new LabelParameterVersionCommand({ Name: name, Labels: ['prod'] }))).ParameterVersion, 3);
    assert.equal((await ssm.send(new GetParameterCommand({ Name: `${name}:prod` }))).Parameter?.Value, 'v3');
    const history = await ssm.send(new GetParameterHistoryCommand({ Name: name }));
    assert.deepEqual(history.Parameters?.map((version) => version.Labels), [[], [], ['prod']]);
    const ten = Array.from({ length: 10 }, (_, index) => `l${index}`);
    await ssm.send(new LabelParameterVersionCommand({ Name: name, ParameterVersion: 2, Labels: ten }));
    const eleventh = await refusal(ssm.send(new LabelParameterVersionCommand({ Name: name, ParameterVersion: 2, Labels: ['one-more'] })));
    assert.equal(eleventh.name, 'ParameterVersionLabelLimitExceeded');
    const unlabelled = await ssm.send(new UnlabelParameterVersionCommand({ Name: name, ParameterVersion: 2, Labels: ['l0', 'absent'] }));
    assert.deepEqual([unlabelled.RemovedLabels, unlabelled.InvalidLabels], [['l0'], ['absent']]);
    assert.equal((await refusal(ssm.send(new GetParameterCommand({ Name: `${name}:9` })))).name, 'ParameterVersionNotFound');
    assert.equal((await refusal(ssm.send(new GetParameterCommand({ Name: `${name}:nolabel` })))).name, 'ParameterVersionNotFound');
    assert.equal((await refusal(ssm.send(new LabelParameterVersionCommand({ Name: name, ParameterVersion: 9, Labels: ['x'] })))).name, 'ParameterVersionNotFound');
    assert.equal((await refusal(ssm.send(new LabelParameterVersionCommand({ Name: `${name}-none`, Labels: ['x'] })))).name, 'ParameterNotFound');
  });

  it('keeps the newest versions, and refuses to drop a labelled oldest one', async () => {
    const name = uniquePath('versions');
    for (const value of ['1', '2', '3', '4']) await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
    const history = await ssm.send(new GetParameterHistoryCommand({ Name: name }));
    assert.deepEqual(history.Parameters?.map((version) => version.Version), [2, 3, 4]);
    await ssm.send(new LabelParameterVersionCommand({ Name: name, ParameterVersion: 2, Labels: ['pinned'] }));
    const refused = await refusal(ssm.send(new PutParameterCommand({ Name: name, Value: '5', Type: 'String', Overwrite: true })));
    assert.equal(refused.name, 'ParameterMaxVersionLimitExceeded');
    assert.equal((await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Version, 4);
  });

  it('lists a path one level or recursively, page by page, with filters', async () => {
    const root = uniquePath('tree');
    const names = [`${root}/a`, `${root}/b`, `${root}/c`, `${root}/sub/d`, `${root}/sub/deep/e`];
    for (const name of names) await ssm.send(new PutParameterCommand({ Name: name, Value: name, Type: name.endsWith('c') ? 'StringList' : 'String' }));
    await ssm.send(new PutParameterCommand({ Name: `${root}x/outside`, Value: 'no', Type: 'String' }));
    const walk = async (recursive: boolean, extra: Record<string, unknown> = {}) => {
      const seen: string[] = [];
      let NextToken: string | undefined;
      let pages = 0;
      do {
        const page = await ssm.send(new GetParametersByPathCommand({ Path: root, Recursive: recursive, MaxResults: 2, NextToken, ...extra }));
        seen.push(...page.Parameters!.map((parameter) => parameter.Name!));
        NextToken = page.NextToken;
        pages += 1;
      } while (NextToken);
      return { seen, pages };
    };
    assert.deepEqual((await walk(false)).seen, names.slice(0, 3));
    const recursive = await walk(true);
    assert.deepEqual(recursive.seen, names);
    assert.equal(recursive.pages, 3);
    const filtered = await walk(true, { ParameterFilters: [{ Key: 'Type', Values: ['StringList'] }] });
    assert.deepEqual(filtered.seen, [`${root}/c`]);
    assert.equal((await refusal(ssm.send(new GetParametersByPathCommand({ Path: root, NextToken: 'garbage' })))).name, 'InvalidNextToken');
    const badKey = await refusal(ssm.send(new GetParametersByPathCommand({ Path: root, ParameterFilters: [{ Key: 'Name', Values: ['x'] }] })));
    assert.equal(badKey.name, 'InvalidFilterKey');
    const badOption = await refusal(ssm.send(new GetParametersByPathCommand({ Path: root, ParameterFilters: [{ Key: 'Label', Option: 'BeginsWith', Values: ['x'] }] })));
    assert.equal(badOption.name, 'InvalidFilterOption');
  });

  it('gets several parameters at once and names the missing; deletes one or several', async () => {
    const root = uniquePath('many');
    await ssm.send(new PutParameterCommand({ Name: `${root}/one`, Value: '1', Type: 'String' }));
    await ssm.send(new PutParameterCommand({ Name: `${root}/two`, Value: '2', Type: 'String' }));
    const got = await ssm.send(new GetParametersCommand({ Names: [`${root}/one`, `${root}/two:1`, `${root}/none`, `${root}/one:7`] }));
    assert.deepEqual(got.Parameters?.map((parameter) => parameter.Value), ['1', '2']);
    assert.deepEqual(got.InvalidParameters, [`${root}/none`, `${root}/one:7`]);
    const deleted = await ssm.send(new DeleteParametersCommand({ Names: [`${root}/one`, `${root}/none`] }));
    assert.deepEqual([deleted.DeletedParameters, deleted.InvalidParameters], [[`${root}/one`], [`${root}/none`]]);
    await ssm.send(new DeleteParameterCommand({ Name: `${root}/two` }));
    assert.equal((await refusal(ssm.send(new DeleteParameterCommand({ Name: `${root}/two` })))).name, 'ParameterNotFound');
    assert.equal((await refusal(ssm.send(new GetParameterCommand({ Name: `${root}/two` })))).name, 'ParameterNotFound');
    assert.equal((await refusal(ssm.send(new GetParameterHistoryCommand({ Name: `${root}/two` })))).name, 'ParameterNotFound');
  });

  it('describes parameters with ParameterFilters and Filters, never with a value', async () => {
    const root = uniquePath('describe');
    await ssm.send(new PutParameterCommand({ Name: `${root}/db/host`, Value: 'db.local', Type: 'String', Tags: [{ Key: 'team', Value: 'core' }] }));
    await ssm.send(new PutParameterCommand({ Name: `${root}/db/port`, Value: '5432', Type: 'String', AllowedPattern: '^\\d+$' }));
    await ssm.send(new PutParameterCommand({ Name: `${root}/web`, Value: 'w', Type: 'StringList' }));
    const describe = async (input: ConstructorParameters<typeof DescribeParametersCommand>[0]) => {
      const seen: Array<Record<string, unknown>> = [];
      let NextToken: string | undefined;
      do {
        const page = await ssm.send(new DescribeParametersCommand({ ...input, NextToken, MaxResults: 50 }));
        seen.push(...(page.Parameters as Array<Record<string, unknown>>));
        NextToken = page.NextToken;
      } while (NextToken);
      return seen;
    };
    const recursive = await describe({ ParameterFilters: [{ Key: 'Path', Option: 'Recursive', Values: [root] }] });
    assert.deepEqual(recursive.map((parameter) => parameter.Name), [`${root}/db/host`, `${root}/db/port`, `${root}/web`]);
    assert.equal(recursive.some((parameter) => 'Value' in parameter), false);
    assert.equal(recursive[1]!.AllowedPattern, '^\\d+$');
    const oneLevel = await describe({ ParameterFilters: [{ Key: 'Path', Values: [root] }] });
    assert.deepEqual(oneLevel.map((parameter) => parameter.Name), [`${root}/web`]);
    const tagged = await describe({ ParameterFilters: [{ Key: 'tag:team', Values: ['core'] }, { Key: 'Name', Option: 'BeginsWith', Values: [root] }] });
    assert.deepEqual(tagged.map((parameter) => parameter.Name), [`${root}/db/host`]);
    const contains = await describe({ ParameterFilters: [{ Key: 'Name', Option: 'Contains', Values: [`${root.slice(1)}/db/p`] }] });
    assert.deepEqual(contains.map((parameter) => parameter.Name), [`${root}/db/port`]);
    const legacy = await describe({ Filters: [{ Key: 'Type', Values: ['StringList'] }, { Key: 'Name', Values: [root] }] });
    assert.deepEqual(legacy.map((parameter) => parameter.Name), [`${root}/web`]);
    const both = await refusal(ssm.send(new DescribeParametersCommand({ Filters: [{ Key: 'Type', Values: ['String'] }], ParameterFilters: [{ Key: 'Type', Values: ['String'] }] })));
    assert.equal(both.name, 'ValidationException');
    const label = await refusal(ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Label', Values: ['x'] }] })));
    assert.equal(label.name, 'InvalidFilterKey');
  });

  it('tags parameters, and refuses tags with overwrite and other resource types', async () => {
    const name = uniquePath('tags');
    await ssm.send(new PutParameterCommand({ Name: name, Value: 'v', Type: 'String', Tags: [{ Key: 'env', Value: 'dev' }] }));
    await ssm.send(new AddTagsToResourceCommand({ ResourceType: 'Parameter', ResourceId: name, Tags: [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'core' }] }));
    await ssm.send(new RemoveTagsFromResourceCommand({ ResourceType: 'Parameter', ResourceId: name, TagKeys: ['team'] }));
    const { TagList } = await ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: name }));
    assert.deepEqual(TagList, [{ Key: 'env', Value: 'prod' }]);
    const withOverwrite = await refusal(ssm.send(new PutParameterCommand({ Name: name, Value: 'w', Overwrite: true, Tags: [{ Key: 'a', Value: 'b' }] })));
    assert.equal(withOverwrite.name, 'ValidationException');
    const document = await refusal(ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Document', ResourceId: name })));
    assert.equal(document.name, 'InvalidResourceType');
    const absent = await refusal(ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: `${name}-absent` })));
    assert.equal(absent.name, 'InvalidResourceId');
  });

  it("answers AWS's errors for names, hierarchies, patterns, sizes and data types", async () => {
    const root = uniquePath('errors');
    const put = (input: Partial<ConstructorParameters<typeof PutParameterCommand>[0]>) =>
      refusal(ssm.send(new PutParameterCommand({ Name: `${root}/p`, Value: 'v', Type: 'String', ...input })));
    assert.equal((await put({ Name: 'no/leading/slash' })).name, 'ValidationException');
    assert.equal((await put({ Name: '/aws/mine' })).name, 'ValidationException');
    assert.equal((await put({ Name: '/bad$char' })).name, 'ValidationException');
    assert.equal((await put({ Name: `/${Array.from({ length: 16 }, (_, index) => `l${index}`).join('/')}` })).name, 'HierarchyLevelLimitExceededException');
    const mismatch = await put({ Value: 'abc', AllowedPattern: '^\\d+$' });
    assert.equal(mismatch.name, 'ParameterPatternMismatchException');
    assert.doesNotMatch(mismatch.message, /abc/);
    assert.equal((await put({ Value: 'x'.repeat(4097) })).name, 'ValidationException');
    assert.equal((await put({ Value: 'x'.repeat(8193), Tier: 'Advanced' })).name, 'ValidationException');
    assert.equal((await put({ Value: '{{ssm:/other}}' })).name, 'ValidationException');
    assert.equal((await put({ DataType: 'aws:ec2:image', Value: 'not-an-ami' })).name, 'ValidationException');
    assert.equal((await put({ KeyId: 'alias/aws/ssm' })).name, 'ValidationException');
    assert.equal((await refusal(ssm.send(new GetParametersByPathCommand({ Path: 'relative' })))).name, 'ValidationException');
    const advanced = await ssm.send(new PutParameterCommand({ Name: `${root}/big`, Value: 'x'.repeat(5000), Type: 'String', Tier: 'Intelligent-Tiering' }));
    assert.equal(advanced.Tier, 'Advanced');
    const downgrade = await refusal(ssm.send(new PutParameterCommand({ Name: `${root}/big`, Value: 'y', Tier: 'Standard', Overwrite: true })));
    assert.equal(downgrade.name, 'ValidationException');
    const ami = await ssm.send(new PutParameterCommand({ Name: `${root}/ami`, Value: 'ami-0123456789abcdef0', Type: 'String', DataType: 'aws:ec2:image' }));
    assert.equal(ami.Version, 1);
    assert.equal((await refusal(ssm.send(new GetParameterCommand({ Name: `${root}/p` })))).name, 'ParameterNotFound');
  });

  it('stores policies on Advanced parameters only, and enforces Expiration', async () => {
    const name = uniquePath('expiring');
    const expiresAt = new Date(clock.now().getTime() + 3_600_000).toISOString();
    const policies = JSON.stringify([
      { Type: 'Expiration', Version: '1.0', Attributes: { Timestamp: expiresAt } },
      { Type: 'ExpirationNotification', Version: '1.0', Attributes: { Before: '15', Unit: 'Minutes' } },
    ]);
    assert.equal((await refusal(ssm.send(new PutParameterCommand({ Name: name, Value: 'v', Type: 'String', Tier: 'Advanced', Policies: policies })))).name, 'InvalidPolicyAttributeException');
    const valid = JSON.stringify([
      { Type: 'Expiration', Version: '1.0', Attributes: { Timestamp: expiresAt } },
      { Type: 'NoChangeNotification', Version: '1.0', Attributes: { After: '2', Unit: 'Days' } },
    ]);
    const standard = await refusal(ssm.send(new PutParameterCommand({ Name: name, Value: 'v', Type: 'String', Tier: 'Standard', Policies: valid })));
    assert.equal(standard.name, 'ValidationException');
    const put = await ssm.send(new PutParameterCommand({ Name: name, Value: 'v', Type: 'String', Tier: 'Intelligent-Tiering', Policies: valid }));
    assert.equal(put.Tier, 'Advanced');
    // A later version without Policies keeps them (AWS: "preserved until you send new policies").
    await ssm.send(new PutParameterCommand({ Name: name, Value: 'w', Overwrite: true }));
    const described = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: [name] }] }));
    assert.deepEqual(described.Parameters?.[0]?.Policies?.map((policy) => policy.PolicyType), ['Expiration', 'NoChangeNotification']);
    assert.equal((await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value, 'w');
    clock.advanceMs(2 * 3_600_000);
    assert.equal((await refusal(ssm.send(new GetParameterCommand({ Name: name })))).name, 'ParameterNotFound');
    await server.server.coffer.runMaintenance();
    assert.equal((await refusal(ssm.send(new GetParameterHistoryCommand({ Name: name })))).name, 'ParameterNotFound');
    assert.equal((await ssm.send(new PutParameterCommand({ Name: name, Value: 'again', Type: 'String' }))).Version, 1);
  });

  it('refuses a standard parameter past the account limit with ParameterLimitExceeded', async () => {
    const limited = await startTestServer({ parameterLimits: { maxStandardParameters: 2 } });
    const client = ssmClient(limited);
    try {
      await client.send(new PutParameterCommand({ Name: '/limit/a', Value: 'v', Type: 'String' }));
      await client.send(new PutParameterCommand({ Name: '/limit/b', Value: 'v', Type: 'String' }));
      const third = await refusal(client.send(new PutParameterCommand({ Name: '/limit/c', Value: 'v', Type: 'String' })));
      assert.equal(third.name, 'ParameterLimitExceeded');
      assert.equal((await client.send(new PutParameterCommand({ Name: '/limit/c', Value: 'v', Type: 'String', Tier: 'Advanced' }))).Tier, 'Advanced');
    } finally {
      client.destroy();
      await limited.cleanup();
    }
  });
});
