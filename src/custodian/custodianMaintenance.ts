/**
 * The custodian's own timer: shred orphaned rows, then rotate the KEK when the current epoch is
 * KEK_EPOCH_DAYS old (or finish a rotation a crash interrupted, or rewrap keys still under a
 * pre-epoch FACEGATE_KEK). It runs where the key store is — the separate custodian, or the
 * provider process only when the custodian is in-process (embedded, development) — never in a
 * provider talking to a remote custodian.
 */
import type { Database } from '../store/db.ts';
import type { KekRing } from './kek.ts';
import { rotateKek, type RotationReport } from './kekRotation.ts';
import { shredOrphans, type OrphanReport } from './orphanKeys.ts';

export type MaintenanceReport = { orphans: OrphanReport; rotation: RotationReport };

export async function runCustodianMaintenance(db: Database, ring: KekRing, epochDays: number, force = false): Promise<MaintenanceReport> {
  // Orphans first: a restored key of a deleted user is shredded, not rewrapped.
  const orphans = await shredOrphans(db, ring);
  return { orphans, rotation: await rotateKek(db, ring, { epochDays, force }) };
}

// Every 6 hours: an epoch of 30 days ends at most 6 h late. The first run comes a minute after
// start, so restarts more frequent than the interval (deploys) cannot postpone rotation forever.
const INTERVAL_MS = 6 * 3_600_000;
const FIRST_RUN_MS = 60_000;

/** Runs until the returned function is called (which awaits a run in progress); the timer does not keep the process alive. */
export function scheduleCustodianMaintenance(
  deps: { db: Database; ring: KekRing; epochDays: number },
  on: { report(r: MaintenanceReport): void; error(e: unknown): void },
  timing = { firstMs: FIRST_RUN_MS, intervalMs: INTERVAL_MS },
): () => Promise<void> {
  let running: Promise<unknown> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = (delay: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = runCustodianMaintenance(deps.db, deps.ring, deps.epochDays).then(on.report, on.error).finally(() => {
        running = undefined;
        tick(timing.intervalMs);
      });
    }, delay);
    timer.unref();
  };
  tick(timing.firstMs);
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
