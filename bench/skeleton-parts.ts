/**
 * The parts of the skeleton peer (skeleton-server.ts) that can be left out one at a time, and the peer names that
 * say which is left out: `skeleton` does all of them, `skeleton-no-audit` all but the audit event, and so on;
 * `skeleton-none` none of them (node:http, the body, JSON in and out: what the parts are added to). The difference
 * between `skeleton` and a `skeleton-no-…` peer in the same round is that part's measured cost.
 */
export const SKELETON_PARTS = ['audit', 'sigv4', 'aes'] as const;
export type SkeletonPart = (typeof SKELETON_PARTS)[number];

export type SkeletonPeerName = 'skeleton' | `skeleton-no-${SkeletonPart}` | 'skeleton-none';
export const SKELETON_PEERS: readonly SkeletonPeerName[] = ['skeleton', ...SKELETON_PARTS.map((part) => `skeleton-no-${part}` as const), 'skeleton-none'];

/** What each part is, for the report. */
export const SKELETON_PART_TITLES: Record<SkeletonPart, string> = {
  audit: 'the durable chained audit event (event build, canonical JSON, group commit, writer thread: chain hash, INSERT, fsync)',
  sigv4: 'SigV4 verification (canonical request, string to sign, HMAC; signing key cached)',
  aes: 'the envelope opens (blob decode, canonical context, AES-256-GCM: two for GetSecretValue, one for Decrypt)',
};

export function isSkeletonPeer(name: string): name is SkeletonPeerName {
  return (SKELETON_PEERS as readonly string[]).includes(name);
}

/** The parts a skeleton peer leaves out. */
export function partsLeftOut(name: SkeletonPeerName): SkeletonPart[] {
  if (name === 'skeleton') return [];
  if (name === 'skeleton-none') return [...SKELETON_PARTS];
  return [name.slice('skeleton-no-'.length) as SkeletonPart];
}

/** `audit,sigv4` → its parts; throws on a name that is not a part. */
export function parseSkeletonParts(text: string): SkeletonPart[] {
  const parts = text.split(',').filter((part) => part !== '');
  for (const part of parts) {
    if (!(SKELETON_PARTS as readonly string[]).includes(part)) throw new Error(`unknown skeleton part ${part}; known: ${SKELETON_PARTS.join(', ')}`);
  }
  return parts as SkeletonPart[];
}
