import type { ReplicaState, SecretVersionRecord } from './records.js';

/** Thrown inside applyReplicaSync's transaction to roll it back; the backend answers 'stale'. */
export class StaleReplicaState extends Error {}

type VersionRow = Omit<SecretVersionRecord, 'stages'>;

/**
 * What a replica's versions must become for `state`, given the versions it holds (version id → has a value):
 * the rows to delete, to insert, the value-less placeholders to fill, and every label to set. The one place both
 * backends' applyReplicaSync take this from, so they can differ only in their SQL. Throws StaleReplicaState
 * when the sync assumed the replica holds a value it does not: a later sync seals it.
 */
export function planReplicaVersions(replicaArn: string, state: ReplicaState, held: ReadonlyMap<string, boolean>) {
  const wanted = new Set(state.versions.map((version) => version.versionId));
  const remove = [...held.keys()].filter((versionId) => !wanted.has(versionId));
  const insert: VersionRow[] = [];
  const fill: VersionRow[] = [];
  const stages: { stage: string; versionId: string }[] = [];
  for (const version of state.versions) {
    const hasValue = held.get(version.versionId);
    if (version.hasValue && !version.sealed && hasValue !== true) throw new StaleReplicaState();
    const row: VersionRow = {
      secretArn: replicaArn,
      versionId: version.versionId,
      dataKeys: version.sealed?.dataKeys ?? [],
      sealedValue: version.sealed?.sealedValue,
      valueType: version.valueType,
      createdDate: version.createdDate,
    };
    if (hasValue === undefined) insert.push(row);
    else if (!hasValue && version.sealed) fill.push(row);
    for (const stage of version.stages) stages.push({ stage, versionId: version.versionId });
  }
  return { remove, insert, fill, stages };
}
