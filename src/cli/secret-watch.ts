import { describeSdkError, type SecretsManagerClients } from './aws-clients.js';
import type { ResolvedVersion } from './secret-resolver.js';

/**
 * `coffer run --watch`'s cheap check: has a secret the child uses moved on? One DescribeSecret per secret
 * (its VersionIdsToStages says which version carries each label; no value is read or decrypted), compared
 * with the versions the child's values came from. A reference pinned to a version id never changes.
 */
export type WatchOutcome =
  | { kind: 'unchanged' }
  /** `versions` holds every followed version as it is now (what a signalled child's next read will see). */
  | { kind: 'changed'; secrets: string[]; versions: ResolvedVersion[] }
  | { kind: 'failed'; reason: string };

export async function checkForNewVersions(clients: SecretsManagerClients, versions: ResolvedVersion[]): Promise<WatchOutcome> {
  const followed = versions.filter((version) => version.followsStage !== undefined);
  const bySecret = new Map<string, ResolvedVersion[]>();
  for (const version of followed) {
    const key = JSON.stringify([version.region ?? '', version.arn]);
    bySecret.set(key, [...(bySecret.get(key) ?? []), version]);
  }
  const changed: string[] = [];
  const now: ResolvedVersion[] = [];
  try {
    await Promise.all(
      [...bySecret.values()].map(async (sameSecret) => {
        const { arn, region } = sameSecret[0]!;
        const described = await clients.client(region).send(new clients.sdk.DescribeSecretCommand({ SecretId: arn }));
        const stages = described.VersionIdsToStages ?? {};
        for (const version of sameSecret) {
          const current = Object.entries(stages).find(([, labels]) => labels.includes(version.followsStage!))?.[0];
          // A label that no version carries any more (a custom one removed) is not a rotation: keep what runs.
          if (current !== undefined && current !== version.versionId) changed.push(`${described.Name ?? arn} (${version.followsStage})`);
          now.push({ ...version, versionId: current ?? version.versionId });
        }
      }),
    );
  } catch (error) {
    return { kind: 'failed', reason: describeSdkError(error) };
  }
  const pinned = versions.filter((version) => version.followsStage === undefined);
  return changed.length > 0 ? { kind: 'changed', secrets: changed.sort(), versions: [...now, ...pinned] } : { kind: 'unchanged' };
}
