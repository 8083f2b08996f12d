import { describeSdkError, type SecretsManagerClients } from './aws-clients.js';
import { findDynamicReferences, ReferenceSyntaxError, selectValue, type SecretReference } from './secret-references.js';

/**
 * Resolves secret references against Secrets Manager (GetSecretValue, ListSecrets) and Parameter Store
 * (GetParameter), for `coffer run` and `coffer render`. One fetch per secret version however many references name it (a secret's keys are read
 * from one GetSecretValue). Values stay in memory; errors name the reference, never a value.
 */

/** A version a reference was resolved from; `coffer run --watch` compares it with the secret's current one. */
export type ResolvedVersion = {
  /** The secret's ARN, as GetSecretValue answered it. */
  arn: string;
  region: string | undefined;
  /** The label the reference follows (AWSCURRENT when none is named), or undefined when it names a version id. */
  followsStage: string | undefined;
  versionId: string;
};

type Fetched = { arn: string; name: string; secretString: string; versionId: string };

/** A reference that could not be resolved; the message names it and says why. */
export class ResolutionError extends Error {
  override name = 'ResolutionError';
}

/** One reference's failure, or several collected (every failure of a template or a command line at once). */
export function resolutionFailure(reasons: string[]): ResolutionError {
  return new ResolutionError(reasons.join('\n'));
}

const DEFAULT_STAGE = 'AWSCURRENT';
/** At most this many GetSecretValue calls at once (--all-from over a large prefix). */
const CONCURRENT_FETCHES = 8;

export class SecretResolver {
  readonly #clients: SecretsManagerClients;
  readonly #fetches = new Map<string, Promise<Fetched>>();
  readonly #parameters = new Map<string, Promise<string>>();
  readonly #versions = new Map<string, ResolvedVersion>();
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(clients: SecretsManagerClients) {
    this.#clients = clients;
  }

  /** The value `reference` stands for; throws ResolutionError naming it. */
  async resolve(reference: SecretReference): Promise<string> {
    if (reference.parameter) return this.#parameter(reference);
    const fetched = await this.#fetch(reference);
    try {
      return selectValue(reference, fetched.secretString);
    } catch (error) {
      throw new ResolutionError(error instanceof Error ? error.message : String(error));
    }
  }

  /** Every version resolved so far, one per secret and label (or version id). */
  versions(): ResolvedVersion[] {
    return [...this.#versions.values()];
  }

  /**
   * Every secret whose name starts with `prefix` (ListSecrets with a `name` filter, every page), as name
   * and ARN; secrets scheduled for deletion are not listed, as ListSecrets does by default.
   */
  async listByPrefix(prefix: string): Promise<Array<{ name: string; arn: string }>> {
    const client = this.#clients.client();
    const found: Array<{ name: string; arn: string }> = [];
    let nextToken: string | undefined;
    try {
      do {
        const page = await client.send(
          new this.#clients.sdk.ListSecretsCommand({ Filters: [{ Key: 'name', Values: [prefix] }], MaxResults: 100, NextToken: nextToken }),
        );
        for (const secret of page.SecretList ?? []) {
          // The filter is a prefix match; checking again keeps the mapping exact whatever a server's filter does.
          if (secret.Name !== undefined && secret.ARN !== undefined && secret.Name.startsWith(prefix)) found.push({ name: secret.Name, arn: secret.ARN });
        }
        nextToken = page.NextToken;
      } while (nextToken);
    } catch (error) {
      throw new ResolutionError(`--all-from ${prefix}: ListSecrets failed: ${describeSdkError(error)}`);
    }
    return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Every key of the JSON object in `arn`'s AWSCURRENT value, or undefined when the value is not a JSON
   * object (or is binary): `--all-from` passes over such a secret.
   */
  async jsonEntries(arn: string, region: string | undefined): Promise<Array<[string, string]> | undefined> {
    const reference: SecretReference = { text: arn, secretId: arn, ...(region ? { region } : {}) };
    let fetched: Fetched;
    try {
      fetched = await this.#fetch(reference);
    } catch (error) {
      if (error instanceof BinarySecretError) return undefined;
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(fetched.secretString);
    } catch {
      return undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    return Object.entries(parsed as Record<string, unknown>).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]);
  }

  /** A parameter's value: GetParameter once per name (with its selector) and decryption. */
  #parameter(reference: SecretReference): Promise<string> {
    const source = reference.parameter!;
    const key = JSON.stringify(['ssm', reference.region ?? '', source.name, source.withDecryption]);
    let pending = this.#parameters.get(key);
    if (pending === undefined) {
      pending = this.#limited(() => this.#getParameter(reference));
      this.#parameters.set(key, pending);
    }
    return pending;
  }

  async #getParameter(reference: SecretReference): Promise<string> {
    const source = reference.parameter!;
    let answer;
    try {
      const { client, sdk } = await this.#clients.parameterStore(reference.region);
      answer = await client.send(new sdk.GetParameterCommand({ Name: source.name, WithDecryption: source.withDecryption }));
    } catch (error) {
      throw new ResolutionError(`${reference.text}: ${describeSdkError(error)}`);
    }
    if (answer.Parameter?.Type === 'SecureString' && !source.withDecryption) {
      throw new ResolutionError(`${reference.text}: the parameter is a SecureString; use {{resolve:ssm-secure:…}} to decrypt it`);
    }
    return answer.Parameter?.Value ?? '';
  }

  /** GetSecretValue once per secret and version. */
  #fetch(reference: SecretReference): Promise<Fetched> {
    const key = JSON.stringify([reference.region ?? '', reference.secretId, reference.versionStage ?? '', reference.versionId ?? '']);
    let pending = this.#fetches.get(key);
    if (pending === undefined) {
      pending = this.#limited(() => this.#getSecretValue(reference));
      this.#fetches.set(key, pending);
    }
    return pending;
  }

  async #getSecretValue(reference: SecretReference): Promise<Fetched> {
    let answer;
    try {
      answer = await this.#clients.client(reference.region).send(
        new this.#clients.sdk.GetSecretValueCommand({
          SecretId: reference.secretId,
          VersionStage: reference.versionStage,
          VersionId: reference.versionId,
        }),
      );
    } catch (error) {
      throw new ResolutionError(`${reference.text}: ${describeSdkError(error)}`);
    }
    if (answer.SecretString === undefined) {
      throw new BinarySecretError(`${reference.text}: the secret's value is binary (SecretBinary); only SecretString values can be used`);
    }
    const fetched: Fetched = { arn: answer.ARN!, name: answer.Name!, secretString: answer.SecretString, versionId: answer.VersionId! };
    const followsStage = reference.versionId === undefined ? (reference.versionStage ?? DEFAULT_STAGE) : undefined;
    this.#versions.set(JSON.stringify([reference.region ?? '', fetched.arn, followsStage ?? fetched.versionId]), {
      arn: fetched.arn,
      region: reference.region,
      followsStage,
      versionId: fetched.versionId,
    });
    return fetched;
  }

  async #limited<T>(work: () => Promise<T>): Promise<T> {
    if (this.#active >= CONCURRENT_FETCHES) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#active++;
    try {
      return await work();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }
}

class BinarySecretError extends ResolutionError {}

/**
 * `template` with every dynamic reference replaced by its value. Every reference is resolved before anything
 * is returned; any failure (each one named) throws a ResolutionError, so a partial result never exists.
 */
export async function renderTemplate(template: string, resolver: SecretResolver): Promise<string> {
  let matches;
  try {
    matches = findDynamicReferences(template);
  } catch (error) {
    if (error instanceof ReferenceSyntaxError) throw new ResolutionError(error.message);
    throw error;
  }
  const outcomes = await Promise.allSettled(matches.map((match) => resolver.resolve(match.reference)));
  const failures = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [reasonOf(outcome.reason)] : []));
  if (failures.length > 0) throw resolutionFailure([...new Set(failures)]);
  let rendered = '';
  let position = 0;
  matches.forEach((match, index) => {
    rendered += template.slice(position, match.start) + (outcomes[index] as PromiseFulfilledResult<string>).value;
    position = match.end;
  });
  return rendered + template.slice(position);
}

/** The message of a failure that is ours to show; anything else is a bug, rethrown by the caller's catch. */
export function reasonOf(reason: unknown): string {
  if (reason instanceof ResolutionError || reason instanceof ReferenceSyntaxError) return reason.message;
  throw reason;
}
