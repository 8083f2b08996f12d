/**
 * The Python side of a hosted invocation, run as `python3 -u -B bootstrap.py` with the function's code as the
 * working directory. It reads `{"event", "context"}` from stdin, imports the module named by `_HANDLER`,
 * calls `handler(event, context)` and writes one JSON result to fd 3, so whatever the handler prints to
 * stdout stays log output. Error documents have Lambda's Python shape (errorMessage, errorType, requestId,
 * stackTrace) and its Runtime.* error types.
 * https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html
 */
export const PYTHON_BOOTSTRAP = String.raw`import importlib
import json
import os
import sys
import time
import traceback


class LambdaContext:
    def __init__(self, meta):
        self.function_name = meta['functionName']
        self.function_version = meta['functionVersion']
        self.invoked_function_arn = meta['invokedFunctionArn']
        self.memory_limit_in_mb = meta['memoryLimitInMB']
        self.aws_request_id = meta['awsRequestId']
        self.log_group_name = meta['logGroupName']
        self.log_stream_name = meta['logStreamName']
        self.identity = None
        self.client_context = None
        self._deadline_ms = meta['deadlineMs']

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))


def main():
    result = os.fdopen(3, 'w', encoding='utf-8')

    def report(document):
        result.write(document)
        result.flush()

    request = json.loads(sys.stdin.read())
    meta = request['context']
    request_id = meta['awsRequestId']

    def failure(error_type, message, stack=None):
        return json.dumps({'ok': False, 'error': {
            'errorMessage': message, 'errorType': error_type, 'requestId': request_id, 'stackTrace': stack or []}})

    sys.path.insert(0, os.environ.get('LAMBDA_TASK_ROOT', os.getcwd()))
    handler_name = os.environ.get('_HANDLER', '')
    try:
        module_name, function_name = handler_name.rsplit('.', 1)
    except ValueError as error:
        report(failure('Runtime.MalformedHandlerName', "Bad handler '%s': %s" % (handler_name, error)))
        return
    try:
        module = importlib.import_module(module_name.replace('/', '.'))
    except SyntaxError as error:
        report(failure('Runtime.UserCodeSyntaxError', "Syntax error in module '%s': %s" % (module_name, error)))
        return
    except Exception as error:
        report(failure('Runtime.ImportModuleError', "Unable to import module '%s': %s" % (module_name, error)))
        return
    handler = getattr(module, function_name, None)
    if handler is None:
        report(failure('Runtime.HandlerNotFound', "Handler '%s' missing on module '%s'" % (function_name, module_name)))
        return
    try:
        value = handler(request['event'], LambdaContext(meta))
    except Exception as error:
        stack = traceback.format_list(traceback.extract_tb(error.__traceback__)[1:])
        report(failure(type(error).__name__, str(error), stack))
        return
    try:
        payload = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        report(failure('Runtime.MarshalError', 'Unable to marshal response: %s' % error))
        return
    report('{"ok": true, "payload": ' + payload + '}')


main()
sys.stdout.flush()
sys.stderr.flush()
os._exit(0)
`;
