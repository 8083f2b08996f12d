import { operation, type ServiceTable } from '../core/index.js';
import type { SsmOperations } from './operations/index.js';
import { schemas } from './schemas.js';

/**
 * The Parameter Store operation table (AWS JSON 1.1, target prefix `AmazonSSM`, signing name `ssm`). Operations
 * on parameters authorize the parameter's ARN themselves ('resource'); DescribeParameters, which has no
 * resource in AWS, keeps the pipeline's action check on `*`.
 */
export function ssmTable(ops: SsmOperations): ServiceTable {
  return {
    targetPrefix: 'AmazonSSM',
    signingName: 'ssm',
    internalErrorCode: 'InternalServerError',
    operations: {
      PutParameter: operation(schemas.PutParameter, ops.putParameter, 'resource'),
      GetParameter: operation(schemas.GetParameter, ops.getParameter, 'resource'),
      GetParameters: operation(schemas.GetParameters, ops.getParameters, 'resource'),
      GetParametersByPath: operation(schemas.GetParametersByPath, ops.getParametersByPath, 'resource'),
      GetParameterHistory: operation(schemas.GetParameterHistory, ops.getParameterHistory, 'resource'),
      DeleteParameter: operation(schemas.DeleteParameter, ops.deleteParameter, 'resource'),
      DeleteParameters: operation(schemas.DeleteParameters, ops.deleteParameters, 'resource'),
      DescribeParameters: operation(schemas.DescribeParameters, ops.describeParameters),
      LabelParameterVersion: operation(schemas.LabelParameterVersion, ops.labelParameterVersion, 'resource'),
      UnlabelParameterVersion: operation(schemas.UnlabelParameterVersion, ops.unlabelParameterVersion, 'resource'),
      AddTagsToResource: operation(schemas.AddTagsToResource, ops.addTagsToResource, 'resource'),
      RemoveTagsFromResource: operation(schemas.RemoveTagsFromResource, ops.removeTagsFromResource, 'resource'),
      ListTagsForResource: operation(schemas.ListTagsForResource, ops.listTagsForResource, 'resource'),
    },
  };
}
