/** At most this many characters of a caller's unvalidated text are repeated in an error message. */
export const MAX_ECHOED_CHARS = 64;
/** Characters an operation name, service name or path may hold; anything else is shown as '?'. */
const NOT_ECHOED = /[^A-Za-z0-9._:/-]/g;

/**
 * A caller's unvalidated text (X-Amz-Target, Action, a REST path) made safe to name in an error message: cut to
 * MAX_ECHOED_CHARS and limited to a plain character set, so a client cannot have arbitrary bytes (or a value
 * it sent in the wrong place, a secret say) reflected back, into logs or into the audit log's errorMessage.
 */
export function echoed(text: string): string {
  const cut = text.length > MAX_ECHOED_CHARS ? `${text.slice(0, MAX_ECHOED_CHARS)}...` : text;
  return cut.replace(NOT_ECHOED, '?');
}
