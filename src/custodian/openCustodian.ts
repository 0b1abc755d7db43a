/**
 * Picks the custodian the provider talks to: in-process (embedded quick start and development)
 * or the remote service. In-process it works on the provider's own database handle through
 * facegate_custodian (SET ROLE), which keeps keys and templates apart inside SQL but not from the
 * process itself — so production refuses it (custodianPlacement).
 */
import type { Config } from '../config.ts';
import { ConfigError } from '../errors.ts';
import type { RelyingParty } from '../faceLogin/relyingParty.ts';
import { CUSTODIAN_ROLE, type Database } from '../store/db.ts';
import type { KeyValueStore } from '../store/kv.ts';
import type { Custodian } from './custodian.ts';
import { openKekRing } from './kek.ts';
import { createLocalCustodian } from './localCustodian.ts';
import { createRemoteCustodian } from './remoteCustodian.ts';

/** Throws in production unless the custodian is a separate service (CUSTODIAN_URL or CUSTODIAN_SOCKET). */
export function checkCustodianPlacement(config: Pick<Config, 'production' | 'custodian'>): void {
  if (config.production && config.custodian.mode === 'inprocess') {
    throw new ConfigError('production needs the separate custodian (CUSTODIAN_URL or CUSTODIAN_SOCKET, and CUSTODIAN_TOKEN): in-process, one compromise of the provider would hold both the templates and their keys');
  }
}

export function openCustodian(config: Config, deps: { db: Database; kv: KeyValueStore; rp: RelyingParty }): Custodian {
  checkCustodianPlacement(config);
  if (config.custodian.mode === 'remote') return createRemoteCustodian({ endpoint: config.custodian.endpoint, token: config.custodian.token });
  return createLocalCustodian({ db: deps.db.forRole(CUSTODIAN_ROLE), kv: deps.kv, keks: openKekRing(config), rp: deps.rp });
}
