/** What the face sign-in core needs from the outside world; the provider builds it once. */
import type { Custodian } from '../custodian/custodian.ts';
import type { Database } from '../store/db.ts';
import type { KeyValueStore } from '../store/kv.ts';
import type { RelyingParty } from './relyingParty.ts';

export type FaceLoginDeps = {
  db: Database;
  /** Single-use registration challenges and capture nonces. */
  kv: KeyValueStore;
  rp: RelyingParty;
  /** Issues sign-in capture nonces and keeps its own copy of each registered passkey. */
  custodian: Custodian;
};
