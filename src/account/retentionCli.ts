/**
 * `facegate retention run|show|set`: applies the retention policy now (all tenants, or one), or
 * reads and changes a tenant's policy (src/account/retention.ts). Face templates are deleted
 * through the custodian, so the KEK must be configured as for the server.
 */
import { parseArgs } from 'node:util';
import type { CliIo } from '../../bin/facegate.ts';
import { loadConfig, type Config } from '../config.ts';
import { relyingPartyFrom } from '../faceLogin/relyingParty.ts';
import { openCustodian } from '../custodian/openCustodian.ts';
import { InputError } from '../errors.ts';
import { loadManifest } from '../face/models.ts';
import { openConfiguredDatabase, type Database } from '../store/db.ts';
import { resolveDataKey, type DataKey } from '../store/dataKey.ts';
import { openKeyValueStore } from '../store/kv.ts';
import { migrate } from '../store/migrate.ts';
import { createFaceTemplates, type FaceTemplates } from '../template/faceTemplates.ts';
import type { DeletionDeps } from './deletion.ts';
import { retentionPolicy, runRetention, setRetentionPolicy } from './retention.ts';

const USAGE = [
  'retention run [--tenant T]                 apply every tenant\'s policy now (or one tenant\'s)',
  'retention show [--tenant T]',
  'retention set [--tenant T] [--face-unused-days N] [--audit-days N]',
].map((l) => `  facegate ${l}`).join('\n');

/** Deletion deps for a command: the configured store, and templates whose custodian opens on first use. */
export function deletionDepsOf(config: Config, db: Database, dataKey: DataKey): DeletionDeps & { close(): Promise<void> } {
  const kv = openKeyValueStore(config.redisUrl);
  let templates: FaceTemplates | undefined;
  return {
    db,
    kv,
    dataKey,
    face: { templates: () => (templates ??= createFaceTemplates({ db, custodian: openCustodian(config, { db, kv, rp: relyingPartyFrom(config.publicUrl) }), model: loadManifest().defaults.recognizer })) },
    close: () => kv.close(),
  };
}

function days(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,6}$/.test(value)) throw new InputError('retention.invalid_days', `--${name} must be a whole number of days`);
  return Number(value);
}

export async function run(args: string[], io: CliIo, env?: Record<string, string | undefined>): Promise<number> {
  const [, command, ...rest] = args;
  if (command !== 'run' && command !== 'show' && command !== 'set') {
    io.err(`usage:\n${USAGE}`);
    return 2;
  }
  let values: { tenant?: string; 'face-unused-days'?: string; 'audit-days'?: string };
  try {
    values = parseArgs({ args: rest, options: { tenant: { type: 'string' }, 'face-unused-days': { type: 'string' }, 'audit-days': { type: 'string' } }, strict: true }).values;
  } catch (e) {
    throw new InputError('cli.invalid_arguments', `${(e as Error).message}\nusage:\n${USAGE}`);
  }
  const config = loadConfig(env);
  const dataKey = resolveDataKey(config);
  const db = openConfiguredDatabase(config, dataKey);
  const deps = deletionDepsOf(config, db, dataKey);
  try {
    await migrate(db);
    if (command === 'run') {
      for (const r of await runRetention(deps, values.tenant ? { tenants: [values.tenant] } : {})) {
        io.out(`${r.tenant}: ${r.facesDeleted} unused face templates deleted, ${r.oidcRows} expired OIDC rows purged, ${r.auditPruned} audit rows pruned`);
      }
      return 0;
    }
    const tenant = values.tenant ?? config.defaultTenant;
    const policy = command === 'show'
      ? await retentionPolicy(deps, tenant)
      : await setRetentionPolicy(deps, tenant, { faceUnusedDays: days(values['face-unused-days'], 'face-unused-days'), auditDays: days(values['audit-days'], 'audit-days') }, 'cli');
    io.out(`${tenant}: face data deleted after ${policy.faceUnusedDays} days unused; audit kept ${policy.auditDays} days`);
    return 0;
  } finally {
    await deps.close();
    await db.close();
  }
}
