/**
 * What a database handle holds for the audit log: the data key that MACs the chain, and the
 * listeners that receive each tenant's new head (seq, hash) once its transaction has committed —
 * the server's `audit.head` log line and the anchor directory. A head is published only after
 * commit, so an anchor never names a row that was rolled back.
 */
import type { DataKey } from '../store/dataKey.ts';
import { eventHash, type ChainedEvent } from './hash.ts';
import { redactionHolds, redactionMac, type RedactedContent } from './redaction.ts';

export type AuditHead = { tenant: string; seq: number; hash: string };
export type HeadListener = (head: AuditHead) => void;

export type AuditChain = {
  /** Id of the data key new rows are chained with. */
  readonly keyId: string;
  /** The row's hash under the key the row names. */
  hash(event: ChainedEvent): string;
  /** The MAC a pseudonymized row carries (audit/redaction.ts), and whether a stored one holds. */
  redactionMac(content: RedactedContent): string;
  redactionHolds(content: RedactedContent, stored: string): boolean;
  /** Calls `listener` with every committed head; returns the function that stops it. */
  onHead(listener: HeadListener): () => void;
};

/** The side of the chain one transaction sees: `appendAudit` reports each row it wrote. */
export type AuditTransaction = {
  readonly chain: AuditChain;
  appended(head: AuditHead): void;
};

export type AuditChainHandle = AuditChain & {
  /** A transaction's view; call `committed` after COMMIT to publish what it appended. */
  begin(): { audit: AuditTransaction; committed(): void };
};

export function createAuditChain(dataKey: DataKey): AuditChainHandle {
  const listeners = new Set<HeadListener>();
  const chain: AuditChainHandle = {
    keyId: dataKey.currentId,
    hash: (event) => eventHash(dataKey, event),
    redactionMac: (content) => redactionMac(dataKey, content),
    redactionHolds: (content, stored) => redactionHolds(dataKey, content, stored),
    onHead(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    begin() {
      const heads: AuditHead[] = [];
      return {
        audit: { chain, appended: (head) => heads.push(head) },
        committed() {
          for (const head of heads) {
            for (const listener of listeners) {
              // The change is committed: a failing anchor must not turn it into an error.
              try {
                listener(head);
              } catch (e) {
                process.emitWarning(`audit head of tenant ${head.tenant} not anchored: ${(e as Error).message}`);
              }
            }
          }
        },
      };
    },
  };
  return chain;
}
