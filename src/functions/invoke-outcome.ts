/**
 * What running a hosted or HTTP function came to: the value it returned, or the error it reported (or that
 * Coffer reports for it: `Sandbox.Timedout`, `Runtime.ExitError`, `ResourceNotFoundException`, ...).
 */
export type InvokeOutcome = { ok: true; payload: unknown } | { ok: false; errorType: string; errorMessage: string };
