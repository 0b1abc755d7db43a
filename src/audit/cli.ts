/**
 * `facegate audit verify --tenant T [--expect-head SEQ:HASH]`: exit 0 when the tenant's audit
 * chain holds and still contains every anchored head (the one given, and the one in
 * AUDIT_ANCHOR_DIR if there is one), 1 otherwise.
 */
import { parseArgs } from 'node:util';
import type { CliIo } from '../../bin/facegate.ts';
import { loadConfig } from '../config.ts';
import { InputError, NotFoundError } from '../errors.ts';
import { openConfiguredDatabase } from '../store/db.ts';
import { migrate } from '../store/migrate.ts';
import { verifyAuditChain, type AuditProblem } from './verify.ts';
import { formatHead, parseHead, readAnchoredHead, type AnchoredHead } from './anchor.ts';
import { isTenantId } from '../ids.ts';

const USAGE = 'usage: facegate audit verify --tenant <id> [--expect-head <seq>:<hash>]';

const EXPLAIN: Record<AuditProblem['reason'], string> = {
  gap: 'a row is missing',
  broken_link: 'the row does not link to the previous one',
  hash_mismatch: 'the row does not match its MAC: edited, or re-chained without the data key',
  unkeyed: 'the row carries no key id: written before keying, or re-chained without the data key',
  unknown_key: 'the row names a data key that is not configured (FACEGATE_DATA_KEY)',
  truncated: 'the log ends before the anchored head: its newest rows were deleted',
  anchor_mismatch: 'the row differs from the anchored head: rewritten after it was anchored',
};

/** `env` defaults to the process environment; tests pass their own. */
export async function run(args: string[], io: CliIo, env?: Record<string, string | undefined>): Promise<number> {
  const [, command, ...rest] = args;
  if (command !== 'verify') {
    io.err(USAGE);
    return 2;
  }
  let values: { tenant?: string; 'expect-head'?: string };
  try {
    values = parseArgs({ args: rest, options: { tenant: { type: 'string' }, 'expect-head': { type: 'string' } }, strict: true }).values;
  } catch (e) {
    throw new InputError('cli.invalid_arguments', `${(e as Error).message}; ${USAGE}`);
  }
  const tenant = values.tenant;
  if (!tenant) throw new InputError('cli.missing_argument', `--tenant is required; ${USAGE}`);
  if (!isTenantId(tenant)) throw new InputError('tenant.invalid_id', `invalid tenant id "${tenant}"`);
  const config = loadConfig(env);
  const anchors: { head: AnchoredHead; source: string }[] = [];
  if (values['expect-head'] !== undefined) anchors.push({ head: parseHead(values['expect-head'], '--expect-head'), source: '--expect-head' });
  const anchored = config.auditAnchorDir ? readAnchoredHead(config.auditAnchorDir, tenant) : undefined;
  if (anchored) anchors.push({ head: anchored, source: `${config.auditAnchorDir}/${tenant}.head` });
  const db = openConfiguredDatabase(config);
  try {
    await migrate(db);
    const { rows } = await db.transaction((sql) => sql.query('SELECT 1 FROM tenants WHERE id = $1', [tenant]));
    if (!rows.length) throw new NotFoundError('tenant.not_found', `tenant "${tenant}" does not exist`);
    const result = await verifyAuditChain(db, tenant, anchors.map((a) => a.head));
    if (result.ok) {
      const head = result.head ? `; head ${formatHead(result.head)}` : '';
      const against = anchors.length
        ? `; contains the anchored head from ${anchors.map((a) => `${a.source} (seq ${a.head.seq})`).join(' and ')}`
        : '; no anchored head to check truncation against (AUDIT_ANCHOR_DIR or --expect-head)';
      io.out(`audit chain of tenant ${tenant}: ok (${result.checked} events)${head}${against}`);
      return 0;
    }
    const p = result.problem!;
    const cause = p.reason === 'truncated' || p.reason === 'anchor_mismatch' ? anchors.filter((a) => a.head.seq >= p.seq) : [];
    const anchor = cause.map((a) => `; anchored head ${formatHead(a.head)} from ${a.source}`).join('');
    io.err(`audit chain of tenant ${tenant}: BROKEN at seq ${p.seq} (${p.reason}: ${EXPLAIN[p.reason]})${anchor}; ${result.checked} events verified before it`);
    return 1;
  } finally {
    await db.close();
  }
}
