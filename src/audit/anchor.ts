/**
 * The anchor directory: one file per tenant, `<dir>/<tenant>.head`, holding the newest committed
 * audit head as `seq:hash` (the form `facegate audit verify --expect-head` takes). It lives
 * outside the database, so deleting the newest audit rows — which leaves a consistent, shorter
 * chain — no longer verifies. Several processes may write it; each write replaces the file only
 * with a higher seq. A race can still leave a lower head, which verify accepts as a weaker check,
 * never as a false alarm.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.ts';
import { isTenantId } from '../ids.ts';
import type { AuditHead, HeadListener } from './chain.ts';

export type AnchoredHead = { seq: number; hash: string };

const HEAD = /^([1-9]\d{0,17}):([A-Za-z0-9_-]{1,128})$/;

export function formatHead(head: AnchoredHead): string {
  return `${head.seq}:${head.hash}`;
}

/** Parses `seq:hash`; `source` names where it came from in the error. */
export function parseHead(text: string, source: string): AnchoredHead {
  const m = HEAD.exec(text.trim());
  if (!m) throw new InputError('audit.invalid_head', `${source} must be <seq>:<hash>, as \`facegate audit verify\` prints it`);
  return { seq: Number(m[1]), hash: m[2] };
}

function headFile(dir: string, tenant: string): string {
  // Tenant ids are validated everywhere; checked again because this one becomes a file name.
  if (!isTenantId(tenant)) throw new InputError('tenant.invalid_id', `invalid tenant id "${tenant}"`);
  return path.join(dir, `${tenant}.head`);
}

/** The head anchored for `tenant` in `dir`, or undefined when none was written. */
export function readAnchoredHead(dir: string, tenant: string): AnchoredHead | undefined {
  const file = headFile(dir, tenant);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return parseHead(text, file);
}

/** A head listener that writes each tenant's newest head into `dir`. */
export function anchorToDirectory(dir: string): HeadListener {
  let made = false;
  return (head: AuditHead) => {
    if (!made) {
      mkdirSync(dir, { recursive: true });
      made = true;
    }
    const file = headFile(dir, head.tenant);
    const current = readAnchoredHead(dir, head.tenant);
    if (current && current.seq >= head.seq) return;
    // Write then rename: a reader never sees a half-written head.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${formatHead(head)}\n`);
    renameSync(tmp, file);
  };
}
