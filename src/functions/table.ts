import { operation, type RestServiceTable } from '../core/index.js';
import type { FunctionOperations } from './operations.js';
import { schemas } from './schemas.js';

const FUNCTIONS = '/2015-03-31/functions';

/**
 * The Lambda operation table and where each operation sits on HTTP (Lambda's REST protocol, API version
 * 2015-03-31). https://docs.aws.amazon.com/lambda/latest/api/API_Operations.html
 */
export function lambdaTable(ops: FunctionOperations): RestServiceTable {
  return {
    targetPrefix: 'lambda',
    signingName: 'lambda',
    internalErrorCode: 'ServiceException',
    pathPrefix: '/2015-03-31/',
    operations: {
      CreateFunction: operation(schemas.CreateFunction, ops.createFunction),
      GetFunction: operation(schemas.GetFunction, ops.getFunction),
      GetFunctionConfiguration: operation(schemas.GetFunctionConfiguration, ops.getFunctionConfiguration),
      ListFunctions: operation(schemas.ListFunctions, ops.listFunctions),
      UpdateFunctionCode: operation(schemas.UpdateFunctionCode, ops.updateFunctionCode),
      UpdateFunctionConfiguration: operation(schemas.UpdateFunctionConfiguration, ops.updateFunctionConfiguration),
      DeleteFunction: operation(schemas.DeleteFunction, ops.deleteFunction),
      Invoke: operation(schemas.Invoke, ops.invoke),
    },
    routes: [
      { method: 'POST', path: FUNCTIONS, operation: 'CreateFunction', status: 201 },
      { method: 'GET', path: `${FUNCTIONS}/`, operation: 'ListFunctions', query: { Marker: 'Marker', MaxItems: 'MaxItems' } },
      { method: 'GET', path: `${FUNCTIONS}/{FunctionName}`, operation: 'GetFunction', query: { Qualifier: 'Qualifier' } },
      { method: 'GET', path: `${FUNCTIONS}/{FunctionName}/configuration`, operation: 'GetFunctionConfiguration', query: { Qualifier: 'Qualifier' } },
      { method: 'PUT', path: `${FUNCTIONS}/{FunctionName}/code`, operation: 'UpdateFunctionCode' },
      { method: 'PUT', path: `${FUNCTIONS}/{FunctionName}/configuration`, operation: 'UpdateFunctionConfiguration' },
      { method: 'DELETE', path: `${FUNCTIONS}/{FunctionName}`, operation: 'DeleteFunction', status: 204, query: { Qualifier: 'Qualifier' } },
      {
        method: 'POST',
        path: `${FUNCTIONS}/{FunctionName}/invocations`,
        operation: 'Invoke',
        query: { Qualifier: 'Qualifier' },
        headers: { 'x-amz-invocation-type': 'InvocationType', 'x-amz-log-type': 'LogType', 'x-amz-client-context': 'ClientContext' },
        payload: 'Payload',
        output: {
          status: 'StatusCode',
          payload: 'Payload',
          headers: { FunctionError: 'X-Amz-Function-Error', LogResult: 'X-Amz-Log-Result', ExecutedVersion: 'X-Amz-Executed-Version' },
        },
      },
    ],
  };
}
