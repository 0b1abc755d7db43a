/** What the face sign-in core needs from the outside world; the provider builds it once. */
import type { Database } from '../store/db.ts';
import type { KeyValueStore } from '../store/kv.ts';
import type { RelyingParty } from './relyingParty.ts';

export type FaceLoginDeps = {
  db: Database;
  /** Single-use registration challenges and capture nonces. */
  kv: KeyValueStore;
  rp: RelyingParty;
};
