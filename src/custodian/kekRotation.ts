/**
 * KEK rotation with destruction (issue 11: crypto-shredding that reaches backups). A database
 * backup holds every sealed key of its day, shredded users' included; once the epoch KEK they are
 * sealed under is erased from the custodian's key store (kekStore.ts), no one can open them —
 * not even with the database, its backups, FACEGATE_KEK and the current key store. One rotation:
 *   1. a new epoch becomes current — unless a rotation is unfinished, or another run made a new
 *      epoch after this one started: then this run finishes (or just reports) that one, so runs
 *      that overlap in time never make two epochs, however their transactions interleave;
 *   2. every key under an older epoch (or a pre-epoch FACEGATE_KEK) is rewrapped under it, a
 *      batch per transaction — a crash leaves each row under its old or its new epoch, both still
 *      in the store, and a rerun goes on where it stopped;
 *   3. only when no key of an existing tenant is left under them, the older epochs are erased
 *      from the store and their ids recorded as destroyed.
 * Steps 1 and 3 hold the epoch lock exclusively (epochLock.ts). Each step is audited in every
 * tenant's log (ids and counts only, never key material). Templates are not touched.
 */
import { appendAudit } from '../audit/log.ts';
import { FacegateError } from '../errors.ts';
import type { Database, Sql } from '../store/db.ts';
import { lockEpochs } from './epochLock.ts';
import type { KekRing } from './kek.ts';
import { newEpoch } from './kekStore.ts';
import { countSealedUnder, keysSealedUnder, rewrapSealedKey } from './keyStore.ts';
import { openKey, sealKey } from './sealedKey.ts';

export type RotationOptions = {
  /** Days an epoch stays current (KEK_EPOCH_DAYS); a younger one is kept unless `force`. */
  epochDays: number;
  force?: boolean;
  now?: number;
  /** Keys per rewrap transaction. */
  batchSize?: number;
  /** Hears the running count after each committed batch. */
  onProgress?: (rewrapped: number) => void;
};

/** `created`: the epoch this run made current, if any; `destroyed`: the epochs it erased. */
export type RotationReport = { current: string; created?: string; rewrapped: number; destroyed: string[] };

const ACTOR = 'custodian';
const DAY_MS = 86_400_000;
// Keys sealed in SEAL's own form (before compactSecretKey.ts) are ~270 KB at N = 8192 and cost
// ~11 ms of CPU each to read, open, reseal and write back (measured: 2000 keys on Postgres, load
// ~15 on 2 cores); the compact form is ~2 KB. 50 a batch bounds the worst case at ~14 MB and its
// rows' locks at ~0.5 s — the longest a decision for one of those users waits.
const BATCH = 50;

export async function tenantIds(db: Database): Promise<string[]> {
  const { rows } = await db.transaction((sql) => sql.query<{ id: string }>('SELECT id FROM tenants ORDER BY id'));
  return rows.map((r) => r.id);
}

/** Moves a transaction opened without a tenant into `tenantId`'s rows (RLS) for what follows. */
export async function enterTenant(sql: Sql, tenantId: string): Promise<void> {
  await sql.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
}

/** `db`: the custodian's handle (facegate_custodian). */
export async function rotateKek(db: Database, ring: KekRing, opts: RotationOptions): Promise<RotationReport> {
  const now = opts.now ?? Date.now();
  const batchSize = opts.batchSize ?? BATCH;
  // The epoch current when this run was asked for, read before its first await.
  const seen = ring.reload().epochs[0].id;
  const tenants = await tenantIds(db);

  const created = await db.transaction(async (sql) => {
    await lockEpochs(sql, 'exclusive');
    const set = ring.reload();
    if (set.epochs.length > 1 || set.epochs[0].id !== seen) return undefined;
    if (!opts.force && now - set.epochs[0].createdAt < opts.epochDays * DAY_MS) return undefined;
    const epoch = newEpoch(now);
    for (const tenantId of tenants) {
      await enterTenant(sql, tenantId);
      await appendAudit(sql, tenantId, { type: 'custodian.kek_epoch_created', actor: ACTOR, subject: tenantId, data: { kekId: epoch.id, retiringIds: set.epochs.map((e) => e.id) } });
    }
    ring.write({ epochs: [epoch, ...set.epochs], destroyed: set.destroyed });
    return epoch.id;
  });

  const { epochs } = ring.reload();
  const current = epochs[0];
  const retiring = [...epochs.slice(1).map((e) => e.id), ...ring.legacyIds];
  let rewrapped = 0;
  for (const tenantId of tenants) {
    for (;;) {
      const count = await db.withTenant(tenantId, async (sql) => {
        await lockEpochs(sql, 'shared');
        // A newer rotation ran meanwhile (it rewraps what is left): never seal under a retired epoch.
        if (ring.reload().epochs[0].id !== current.id) throw new FacegateError('custodian.rotation_superseded', 'another rotation changed the current KEK epoch; run again', 409);
        const rows = await keysSealedUnder(sql, tenantId, retiring, batchSize);
        for (const row of rows) {
          const kek = ring.find(row.kekId);
          if (!kek || kek === 'destroyed') throw new FacegateError('custodian.kek_unavailable', `KEK "${row.kekId}" is not in the key store`, 500);
          const secret = openKey(kek, tenantId, row.userId, row.sealed);
          await rewrapSealedKey(sql, tenantId, row.userId, { kekId: current.id, sealed: sealKey(current, tenantId, row.userId, secret) });
          secret.fill(0);
        }
        if (rows.length > 0) await appendAudit(sql, tenantId, { type: 'custodian.keys_rewrapped', actor: ACTOR, subject: tenantId, data: { count: rows.length, kekId: current.id } });
        return rows.length;
      });
      if (count === 0) break;
      rewrapped += count;
      opts.onProgress?.(rewrapped);
    }
  }

  const destroyed = await db.transaction(async (sql) => {
    await lockEpochs(sql, 'exclusive');
    const set = ring.reload();
    const ids = set.epochs.slice(1).map((e) => e.id);
    if (ids.length === 0 || set.epochs[0].id !== current.id) return [];
    let left = 0;
    for (const tenantId of tenants) {
      await enterTenant(sql, tenantId);
      left += await countSealedUnder(sql, tenantId, ids);
    }
    // Keys added under an old epoch after the rewrap (a data-only restore): the next run rewraps them.
    if (left > 0) throw new FacegateError('custodian.rewrap_incomplete', `${left} keys are still sealed under the retiring KEK epochs; run the rotation again`, 409);
    for (const tenantId of tenants) {
      await enterTenant(sql, tenantId);
      await appendAudit(sql, tenantId, { type: 'custodian.kek_epoch_destroyed', actor: ACTOR, subject: tenantId, data: { kekIds: ids, currentId: current.id } });
    }
    ring.write({ epochs: [set.epochs[0]], destroyed: [...set.destroyed, ...ids.map((id) => ({ id, at: now }))] });
    return ids;
  });
  return { current: current.id, created, rewrapped, destroyed };
}
