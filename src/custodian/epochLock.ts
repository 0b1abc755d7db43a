/**
 * The lock that orders KEK rotation against everything that seals under the current epoch. Sealing
 * a new key and rewrapping a batch take it shared (they may run together); starting a rotation and
 * destroying an epoch take it exclusive. So a key sealed under the epoch a rotation is about to
 * retire is committed before the rotation starts (and rewrapped by it), and no rewrap batch still
 * holds an old epoch's key when the epoch is destroyed. A transaction-level advisory lock: it
 * ends with the transaction, also when the process dies.
 */
import type { Sql } from '../store/db.ts';

export async function lockEpochs(sql: Sql, mode: 'shared' | 'exclusive'): Promise<void> {
  await sql.query(`SELECT ${mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock'}(hashtext('facegate:custodian-kek-epochs'))`);
}
