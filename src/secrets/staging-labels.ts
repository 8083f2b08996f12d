import type { LabelHolders, LabelPlan, VersionLabels } from '../store/index.js';
import { secretsError } from './errors.js';

/**
 * The staging-label rules, as pure functions of a secret's current labels. The store runs them inside the
 * transaction that applies their result, so concurrent writers each see the labels the other left.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/whats-in-a-secret.html#term_version
 */
export const AWSCURRENT = 'AWSCURRENT';
export const AWSPREVIOUS = 'AWSPREVIOUS';
export const AWSPENDING = 'AWSPENDING';
export const MAX_LABELS_PER_VERSION = 20;
export const MAX_DEPRECATED_VERSIONS = 100;
const DEPRECATION_GRACE_MS = 24 * 60 * 60 * 1000;

/**
 * The labels a new version gets: `stages`, plus AWSCURRENT when it is the secret's first version (a secret
 * created without a value), whatever `stages` says: "If this operation creates the first version for the
 * secret, then Secrets Manager automatically attaches the staging label AWSCURRENT to the new version."
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html
 * `versions` are the secret's versions, the new one included or not.
 */
export function newVersionStages(versions: VersionLabels[], newVersionId: string, stages: string[]): string[] {
  return stagesOfNewVersion(versions.every((version) => version.versionId === newVersionId), stages);
}

/** newVersionStages, knowing whether the new version is the secret's first. */
export function stagesOfNewVersion(first: boolean, stages: string[]): string[] {
  return first && !stages.includes(AWSCURRENT) ? [...stages, AWSCURRENT] : stages;
}

/** A new version takes `stages`; taking AWSCURRENT hands AWSPREVIOUS to the version that held it. */
export function planNewVersion(versions: VersionLabels[], newVersionId: string, requestedStages: string[], now: Date): LabelPlan {
  const moves = newVersionMoves(currentHolders(versions), newVersionStages(versions, newVersionId, requestedStages), newVersionId);
  return finish(versions, moves, now);
}

/**
 * planNewVersion from the label holders and the number of versions (the new one included), without every
 * version's date: the same plan, or undefined when more than 100 versions would be deprecated after it, where
 * pruning needs them all (then planNewVersion).
 */
export function planNewVersionFromHolders(holders: LabelHolders, newVersionId: string, requestedStages: string[]): LabelPlan | undefined {
  const stages = stagesOfNewVersion(holders.versionCount <= 1, requestedStages);
  const moves = newVersionMoves(currentHolders(holders.labeled), stages, newVersionId);
  const labels = labelsAfter(holders.labeled, moves);
  const labeledAfter = [...labels.values()].filter((stagesOf) => stagesOf.size > 0).length;
  if (holders.versionCount - labeledAfter > MAX_DEPRECATED_VERSIONS) return undefined;
  return { moves, deleteVersions: [] };
}

function newVersionMoves(holders: Map<string, string>, stages: string[], newVersionId: string): LabelPlan['moves'] {
  const moves = stages.map((stage) => ({ stage, versionId: newVersionId as string | null }));
  const previousCurrent = holders.get(AWSCURRENT);
  if (stages.includes(AWSCURRENT) && previousCurrent && previousCurrent !== newVersionId && !stages.includes(AWSPREVIOUS)) {
    moves.push({ stage: AWSPREVIOUS, versionId: previousCurrent });
  }
  return moves;
}

/**
 * UpdateSecretVersionStage: attach `stage` to `moveTo`, remove it from `removeFrom`, or both.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UpdateSecretVersionStage.html
 */
export function planStageUpdate(
  versions: VersionLabels[],
  stage: string,
  moveTo: string | undefined,
  removeFrom: string | undefined,
  now: Date,
): LabelPlan {
  const known = new Set(versions.map((version) => version.versionId));
  for (const versionId of [moveTo, removeFrom]) {
    if (versionId !== undefined && !known.has(versionId)) {
      throw secretsError('InvalidParameterException', `The version ${versionId} doesn't exist for this secret.`);
    }
  }
  const holder = currentHolders(versions).get(stage);
  if (removeFrom !== undefined && holder !== removeFrom) {
    throw secretsError('InvalidParameterException', `The staging label ${stage} is not attached to version ${removeFrom}, so it can't be removed from it.`);
  }
  if (moveTo === undefined) {
    if (removeFrom === undefined) {
      throw secretsError('InvalidParameterException', 'You must specify MoveToVersionId, RemoveFromVersionId, or both.');
    }
    if (stage === AWSCURRENT) {
      throw secretsError('InvalidParameterException', `You can't remove the staging label ${AWSCURRENT} from a version without moving it to another version.`);
    }
    return finish(versions, [{ stage, versionId: null }], now);
  }
  if (holder !== undefined && holder !== moveTo && removeFrom !== holder) {
    throw secretsError(
      'InvalidParameterException',
      `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder}, so you must explicitly reference that version in RemoveFromVersionId.`,
    );
  }
  if (holder === moveTo) return { moves: [], deleteVersions: [] };
  const moves: LabelPlan['moves'] = [{ stage, versionId: moveTo }];
  if (stage === AWSCURRENT && holder !== undefined) moves.push({ stage: AWSPREVIOUS, versionId: holder });
  return finish(versions, moves, now);
}

/** Checks the label limit on the result and prunes deprecated versions beyond 100 (never one under 24 hours old). */
function finish(versions: VersionLabels[], moves: LabelPlan['moves'], now: Date): LabelPlan {
  return { moves, deleteVersions: prunableVersions(versions, labelsAfter(versions, moves), now) };
}

/** Each version's labels after `moves` (a version that gets its first label included); refuses more than 20 on one. */
function labelsAfter(versions: Array<Pick<VersionLabels, 'versionId' | 'stages'>>, moves: LabelPlan['moves']): Map<string, Set<string>> {
  const labels = new Map(versions.map((version) => [version.versionId, new Set(version.stages)]));
  for (const { stage, versionId } of moves) {
    for (const stages of labels.values()) stages.delete(stage);
    if (versionId !== null) (labels.get(versionId) ?? labels.set(versionId, new Set()).get(versionId)!).add(stage);
  }
  for (const [versionId, stages] of labels) {
    if (stages.size > MAX_LABELS_PER_VERSION) {
      throw secretsError('LimitExceededException', `Version ${versionId} would have more than ${MAX_LABELS_PER_VERSION} staging labels.`);
    }
  }
  return labels;
}

function prunableVersions(versions: VersionLabels[], labels: Map<string, Set<string>>, now: Date): string[] {
  const deprecated = versions
    .filter((version) => (labels.get(version.versionId)?.size ?? 0) === 0)
    .sort((a, b) => a.createdDate.getTime() - b.createdDate.getTime());
  const excess = deprecated.length - MAX_DEPRECATED_VERSIONS;
  if (excess <= 0) return [];
  return deprecated
    .filter((version) => now.getTime() - version.createdDate.getTime() >= DEPRECATION_GRACE_MS)
    .slice(0, excess)
    .map((version) => version.versionId);
}

function currentHolders(versions: Array<Pick<VersionLabels, 'versionId' | 'stages'>>): Map<string, string> {
  const holders = new Map<string, string>();
  for (const version of versions) for (const stage of version.stages) holders.set(stage, version.versionId);
  return holders;
}
