import type { Clock, Logger } from '../core/index.js';
import type { RotationLease, RotationRepository, RotationRunRecord } from '../store/index.js';

/** A run's lease while its holder works on it: renewed in the background until stopped or refused. */
export type HeldLease = {
  /** The owner and epoch the holder's fenced writes name. */
  readonly lease: RotationLease;
  /** False once the store refused a write under this lease: another node has claimed the run. */
  held(): boolean;
  /** Records that a fenced write was refused. */
  lost(): void;
  /** Ends the renewals (the holder is done with the run). */
  stop(): void;
};

type LeaseDeps = { store: Pick<RotationRepository, 'renewRotationLease'>; clock: Clock; logger: Logger };

/**
 * Keeps the lease of a claimed run: every third of the lease's length the holder moves its expiry on, a
 * fenced write, so a step that runs longer than the lease is not claimed by a second node, while a holder
 * that dies stops renewing and another node takes the run over within one lease. A refused renewal means
 * another node holds the run: the holder finishes the step it is in and then writes nothing. A renewal that
 * fails (the database unreachable) is tried again at the next tick; the lease lasts until its expiry meanwhile.
 */
export function holdLease(deps: LeaseDeps, run: RotationRunRecord, owner: string, leaseMs: number): HeldLease {
  const lease: RotationLease = { owner, epoch: run.leaseEpoch };
  let held = true;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const schedule = () => {
    timer = setTimeout(() => void renew(), Math.max(1, Math.floor(leaseMs / 3)));
    timer.unref();
  };

  async function renew(): Promise<void> {
    try {
      const expiresAt = new Date(deps.clock.now().getTime() + leaseMs);
      if (!(await deps.store.renewRotationLease(run.secretArn, run.token, lease, expiresAt))) lost();
    } catch (error) {
      deps.logger.warn('rotation lease renewal failed', { secretArn: run.secretArn, versionId: run.token, error: error instanceof Error ? error.message : String(error) });
    }
    if (held && !stopped) schedule();
  }

  function lost(): void {
    if (held) deps.logger.warn('rotation lease lost: another node drives the run', { secretArn: run.secretArn, versionId: run.token, epoch: lease.epoch });
    held = false;
  }

  schedule();
  return {
    lease,
    held: () => held,
    lost,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
