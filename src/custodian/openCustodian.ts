/** Picks the custodian the provider talks to: in-process (embedded default) or the remote service. */
import type { Config } from '../config.ts';
import type { Database } from '../store/db.ts';
import type { KeyValueStore } from '../store/kv.ts';
import type { Custodian } from './custodian.ts';
import { resolveKeks } from './kek.ts';
import { createLocalCustodian } from './localCustodian.ts';
import { createRemoteCustodian } from './remoteCustodian.ts';

export function openCustodian(config: Config, deps: { db: Database; kv: KeyValueStore }): Custodian {
  if (config.custodian.mode === 'remote') return createRemoteCustodian({ url: config.custodian.url, token: config.custodian.token });
  return createLocalCustodian({ db: deps.db, kv: deps.kv, keks: resolveKeks(config) });
}
