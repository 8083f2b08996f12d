import type { IamRepository } from '../store/index.js';
import { awsManagedPolicy, isAwsManagedPolicyArn } from './aws-managed-policies.js';

/**
 * The text of a managed policy's default version by ARN: an AWS managed policy's from the code-side table
 * (aws-managed-policies.ts), a customer managed policy's from the store. Undefined when there is no such policy
 * (so a caller, such as session policies given as PolicyArns, can refuse it). AWS managed ARNs never reach the store.
 */
export async function getManagedPolicyDocument(store: Pick<IamRepository, 'getManagedPolicyDocument'>, arn: string): Promise<string | undefined> {
  if (isAwsManagedPolicyArn(arn)) return awsManagedPolicy(arn)?.document;
  return store.getManagedPolicyDocument(arn);
}
