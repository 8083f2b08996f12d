/**
 * The contract every condition-operator family implements. A family prepares the policy values of one key once
 * (at compile time) into a test of one context value; the test is true when the context value matches ANY of the
 * policy values ("multiple values for one key are ORed").
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
 */
export type ValueTest = (contextValue: string) => boolean;

export type OperatorSpec = {
  /**
   * A negated operator (StringNotEquals, NotIpAddress, ...) is true when the context value matches NONE of the
   * policy values, and true when the key is absent.
   */
  readonly negated: boolean;
  /** The test for one key's policy values, or a message naming the policy value that is malformed. */
  readonly prepare: (policyValues: readonly string[]) => ValueTest | string;
};

export type OperatorTable = { readonly [name: string]: OperatorSpec };

/** Builds a spec from a per-value parser and a comparison, for the families that compare parsed values. */
export function comparing<T>(
  negated: boolean,
  parse: (raw: string) => T | undefined,
  kind: string,
  compare: (contextValue: T, policyValue: T) => boolean,
): OperatorSpec {
  return {
    negated,
    prepare(policyValues) {
      const parsed: T[] = [];
      for (const raw of policyValues) {
        const value = parse(raw);
        if (value === undefined) return `the value "${raw}" is not a valid ${kind}`;
        parsed.push(value);
      }
      return (contextRaw) => {
        const contextValue = parse(contextRaw);
        // A context value that does not parse matches nothing.
        if (contextValue === undefined) return false;
        return parsed.some((policyValue) => compare(contextValue, policyValue));
      };
    },
  };
}
