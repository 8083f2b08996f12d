import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { secretFromRow, versionFromRow } from '../../../src/store/rows/secrets.js';
import { optionalDate, sharedDate } from '../../../src/store/rows/values.js';

const CREATED = 1_796_578_973_295;
const DAY = 1_796_515_200_000;

function secretRow(arn: string, created: number) {
  return {
    arn, account_id: '000000000000', region: 'us-east-1', name: arn.slice(-10), description: null, kms_key_id: null,
    created_date: created, last_changed_date: created, last_accessed_date: DAY, deleted_date: null, scheduled_deletion_date: null,
    owning_service: null, primary_region: 'us-east-1', resource_policy: null, rotation_enabled: 0, rotation_lambda_arn: null,
    rotation_rules: null, last_rotated_date: null, next_rotation_date: null, next_rotation_window_end: null,
  };
}

function versionRow(arn: string, created: number) {
  return { secret_arn: arn, version_id: 'v1', data_keys: '[]', sealed_value: null, value_type: 'string', created_date: created, last_accessed_date: DAY };
}

describe('dates read from rows', () => {
  it('one Date for one instant: a secret\'s created, last-changed and access dates and its version\'s', () => {
    const secret = secretFromRow(secretRow('arn:a', CREATED), 'integer');
    const version = versionFromRow(versionRow('arn:a', CREATED), ['AWSCURRENT']);
    const other = secretFromRow(secretRow('arn:b', CREATED + 1), 'integer');
    assert.equal(secret.createdDate.getTime(), CREATED);
    assert.equal(secret.lastChangedDate, secret.createdDate);
    assert.equal(version.createdDate, secret.createdDate);
    assert.equal(version.lastAccessedDate, secret.lastAccessedDate);
    assert.equal(other.lastAccessedDate, secret.lastAccessedDate);
    assert.notEqual(other.createdDate, secret.createdDate);
    assert.equal(other.createdDate.getTime(), CREATED + 1);
    assert.equal(optionalDate(null), undefined);
  });

  it('gives the right instant after its table starts over', () => {
    const first = sharedDate(CREATED);
    for (let ms = 0; ms < 10_000; ms++) assert.equal(sharedDate(ms).getTime(), ms);
    const again = sharedDate(CREATED);
    assert.equal(again.getTime(), CREATED);
    assert.equal(first.getTime(), CREATED);
  });
});
