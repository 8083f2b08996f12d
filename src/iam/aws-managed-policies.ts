import { createHash } from 'node:crypto';

/**
 * AWS managed policies: read-only policies every account sees as `arn:aws:iam::aws:policy/<name>`, attachable to
 * users and roles like customer managed ones. Their documents are AWS's text of the version named here, from the
 * AWS Managed Policy Reference (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/policy-list.html);
 * only the actions of services Coffer has (secretsmanager, kms, iam, sts) ever match a request, the rest are kept
 * as AWS wrote them. The set: the administrator and IAM policies, and the ones the Secrets Manager and KMS guides
 * tell users to attach (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_available-policies.html,
 * https://docs.aws.amazon.com/kms/latest/developerguide/security-iam-awsmanpol.html; SecretsManagerReadWrite's own
 * description says to combine it with IAMFullAccess for rotation). ReadOnlyAccess is left out: its document lists
 * hundreds of services and is revised weekly.
 *
 * Their policy ids are not AWS's (which the reference does not publish): `ANPA` and 17 characters derived from the
 * name, stable across deployments.
 */
export type AwsManagedPolicy = {
  readonly policyName: string;
  readonly arn: string;
  readonly policyId: string;
  readonly path: '/';
  readonly description: string;
  readonly defaultVersionId: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** The default version's text, formatted as AWS shows it. */
  readonly document: string;
};

/** The account part of every AWS managed policy's ARN. */
export const AWS_MANAGED_POLICY_PREFIX = 'arn:aws:iam::aws:policy/';

type Definition = Omit<AwsManagedPolicy, 'arn' | 'policyId' | 'path' | 'document'> & { readonly statements: readonly object[] };

const DEFINITIONS: readonly Definition[] = [
  {
    policyName: 'AdministratorAccess',
    description: 'Provides full access to AWS services and resources.',
    defaultVersionId: 'v1',
    createdAt: new Date('2015-02-06T18:39:46Z'),
    updatedAt: new Date('2015-02-06T18:39:46Z'),
    statements: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
  },
  {
    policyName: 'AWSKeyManagementServicePowerUser',
    description: 'Provides access to AWS Key Management Service (KMS).',
    defaultVersionId: 'v2',
    createdAt: new Date('2015-02-06T18:40:00Z'),
    updatedAt: new Date('2017-03-07T00:55:00Z'),
    statements: [
      {
        Effect: 'Allow',
        Action: [
          'kms:CreateAlias',
          'kms:CreateKey',
          'kms:DeleteAlias',
          'kms:Describe*',
          'kms:GenerateRandom',
          'kms:Get*',
          'kms:List*',
          'kms:TagResource',
          'kms:UntagResource',
          'iam:ListGroups',
          'iam:ListRoles',
          'iam:ListUsers',
        ],
        Resource: '*',
      },
    ],
  },
  {
    policyName: 'IAMFullAccess',
    description: 'Provides full access to IAM via the AWS Management Console.',
    defaultVersionId: 'v2',
    createdAt: new Date('2015-02-06T18:40:00Z'),
    updatedAt: new Date('2019-06-21T19:40:00Z'),
    statements: [
      {
        Effect: 'Allow',
        Action: [
          'iam:*',
          'organizations:DescribeAccount',
          'organizations:DescribeOrganization',
          'organizations:DescribeOrganizationalUnit',
          'organizations:DescribePolicy',
          'organizations:ListChildren',
          'organizations:ListParents',
          'organizations:ListPoliciesForTarget',
          'organizations:ListRoots',
          'organizations:ListPolicies',
          'organizations:ListTargetsForPolicy',
        ],
        Resource: '*',
      },
    ],
  },
  {
    policyName: 'IAMReadOnlyAccess',
    description: 'Provides read only access to IAM via the AWS Management Console.',
    defaultVersionId: 'v4',
    createdAt: new Date('2015-02-06T18:40:00Z'),
    updatedAt: new Date('2018-01-25T19:11:00Z'),
    statements: [
      {
        Effect: 'Allow',
        Action: [
          'iam:GenerateCredentialReport',
          'iam:GenerateServiceLastAccessedDetails',
          'iam:Get*',
          'iam:List*',
          'iam:SimulateCustomPolicy',
          'iam:SimulatePrincipalPolicy',
        ],
        Resource: '*',
      },
    ],
  },
  {
    policyName: 'SecretsManagerReadWrite',
    description:
      'Provides read/write access to AWS Secrets Manager via the AWS Management Console. Note: this exludes IAM actions, so combine with IAMFullAccess if rotation configuration is required.',
    defaultVersionId: 'v5',
    createdAt: new Date('2018-04-04T18:05:00Z'),
    updatedAt: new Date('2024-02-22T18:12:00Z'),
    statements: [
      {
        Sid: 'BasePermissions',
        Effect: 'Allow',
        Action: [
          'secretsmanager:*',
          'cloudformation:CreateChangeSet',
          'cloudformation:DescribeChangeSet',
          'cloudformation:DescribeStackResource',
          'cloudformation:DescribeStacks',
          'cloudformation:ExecuteChangeSet',
          'docdb-elastic:GetCluster',
          'docdb-elastic:ListClusters',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeSubnets',
          'ec2:DescribeVpcs',
          'kms:DescribeKey',
          'kms:ListAliases',
          'kms:ListKeys',
          'lambda:ListFunctions',
          'rds:DescribeDBClusters',
          'rds:DescribeDBInstances',
          'redshift:DescribeClusters',
          'redshift-serverless:ListWorkgroups',
          'redshift-serverless:GetNamespace',
          'tag:GetResources',
        ],
        Resource: '*',
      },
      {
        Sid: 'LambdaPermissions',
        Effect: 'Allow',
        Action: ['lambda:AddPermission', 'lambda:CreateFunction', 'lambda:GetFunction', 'lambda:InvokeFunction', 'lambda:UpdateFunctionConfiguration'],
        Resource: 'arn:aws:lambda:*:*:function:SecretsManager*',
      },
      {
        Sid: 'SARPermissions',
        Effect: 'Allow',
        Action: ['serverlessrepo:CreateCloudFormationChangeSet', 'serverlessrepo:GetApplication'],
        Resource: 'arn:aws:serverlessrepo:*:*:applications/SecretsManager*',
      },
      {
        Sid: 'S3Permissions',
        Effect: 'Allow',
        Action: ['s3:GetObject'],
        Resource: ['arn:aws:s3:::awsserverlessrepo-changesets*', 'arn:aws:s3:::secrets-manager-rotation-apps-*/*'],
      },
    ],
  },
];

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** `ANPA` and 17 base32 characters of the name's SHA-256: the same id in every deployment. */
function stablePolicyId(policyName: string): string {
  let id = 'ANPA';
  for (const byte of createHash('sha256').update(`aws-managed-policy:${policyName}`).digest().subarray(0, 17)) id += ID_ALPHABET[byte % 32];
  return id;
}

/** AWS's layout of a policy document: two-space indentation and ` : ` between member and value. */
function awsLayout(statements: readonly object[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements }, null, 2).replace(/^(\s*"[^"]*"): /gm, '$1 : ');
}

/** The AWS managed policies, by name. */
export const AWS_MANAGED_POLICIES: readonly AwsManagedPolicy[] = DEFINITIONS.map(({ statements, ...definition }) => ({
  ...definition,
  arn: `${AWS_MANAGED_POLICY_PREFIX}${definition.policyName}`,
  policyId: stablePolicyId(definition.policyName),
  path: '/' as const,
  document: awsLayout(statements),
})).sort((a, b) => (a.policyName < b.policyName ? -1 : 1));

const BY_ARN = new Map(AWS_MANAGED_POLICIES.map((policy) => [policy.arn, policy]));

/** Whether an ARN is in AWS's namespace (`arn:aws:iam::aws:policy/...`), whether or not Coffer has that policy. */
export function isAwsManagedPolicyArn(arn: string): boolean {
  return arn.startsWith(AWS_MANAGED_POLICY_PREFIX);
}

export function awsManagedPolicy(arn: string): AwsManagedPolicy | undefined {
  return BY_ARN.get(arn);
}
