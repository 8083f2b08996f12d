import type { AccessKeyRecord, IamGroupRecord, IamRoleRecord, IamTag, IamUserRecord } from '../store/index.js';

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_User.html */
export function userView(user: IamUserRecord) {
  return { Path: user.path, UserName: user.userName, UserId: user.userId, Arn: user.arn, CreateDate: user.createdAt, Tags: tagsView(user.tags) };
}

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_Group.html (groups have no tags) */
export function groupView(group: IamGroupRecord) {
  return { Path: group.path, GroupName: group.groupName, GroupId: group.groupId, Arn: group.arn, CreateDate: group.createdAt };
}

/**
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html. Policy documents travel URL-encoded
 * (RFC 3986), as IAM returns them; the AWS CLI decodes them, SDK callers call decodeURIComponent.
 */
export function roleView(role: IamRoleRecord) {
  return {
    Path: role.path,
    RoleName: role.roleName,
    RoleId: role.roleId,
    Arn: role.arn,
    CreateDate: role.createdAt,
    AssumeRolePolicyDocument: encodeURIComponent(role.assumeRolePolicyDocument),
    Description: role.description,
    MaxSessionDuration: role.maxSessionDurationSeconds,
    Tags: tagsView(role.tags),
  };
}

export function accessKeyMetadataView(key: AccessKeyRecord, userName: string | undefined) {
  return { UserName: userName, AccessKeyId: key.accessKeyId, Status: key.status ?? 'Active', CreateDate: key.createdAt };
}

function tagsView(tags: IamTag[]) {
  return tags.length > 0 ? tags : undefined;
}
