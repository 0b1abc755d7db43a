/**
 * `facegate face verify A.jpg B.jpg`: runs both photos through the real pipeline and prints the
 * match score, each photo's liveness score and the decision of the face step's own rule
 * (faceLogin/decide.ts: match AND live, here the less live of the two photos).
 * Exit 0 when accepted, 1 when rejected.
 */
import { readFile } from 'node:fs/promises';
import type { CliIo } from '../../bin/facegate.ts';
import { loadConfig } from '../config.ts';
import { cosine } from './embed.ts';
import { isFacegateError } from '../errors.ts';
import { decideFace, isLive, isMatch } from '../faceLogin/decide.ts';
import { createFacePipeline, type BurstResult } from './pipeline.ts';
import { livenessThreshold, matchThreshold } from './thresholds.ts';

export async function run(args: string[], io: CliIo): Promise<number> {
  const [, command, a, b] = args;
  if (command !== 'verify' || !a || !b || args.length !== 4) {
    io.err('usage: facegate face verify A.jpg B.jpg');
    return 2;
  }
  const files = [a, b];
  const bytes: Buffer[] = [];
  for (const f of files) {
    try {
      bytes.push(await readFile(f));
    } catch (e) {
      io.err(`cannot read ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return 1;
    }
  }
  const pipeline = createFacePipeline({ faceModelsDir: loadConfig().faceModelsDir, threads: 2 });
  try {
    const settled = await Promise.allSettled(bytes.map((x) => pipeline.processBurst([x], 'verify')));
    let failed = false;
    settled.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      if (!isFacegateError(r.reason)) throw r.reason;
      io.err(`${'AB'[i]} (${files[i]}): error ${r.reason.code}: ${r.reason.message}`);
      failed = true;
    });
    if (failed) return 1;
    const [ra, rb] = settled.map((r) => (r as PromiseFulfilledResult<BurstResult>).value);
    const match = cosine(ra.embedding, rb.embedding);
    const live = [ra.liveness.aggregate, rb.liveness.aggregate].map(isLive);
    // Both photos must be live: the decision takes the less live one.
    const matched = isMatch(match);
    const decision = decideFace({ matched, liveness: Math.min(ra.liveness.aggregate, rb.liveness.aggregate) });
    io.out(`match     ${match.toFixed(3)}  (threshold ${matchThreshold}) ${matched ? 'same person' : 'different people'}`);
    io.out(`liveness  A ${ra.liveness.aggregate.toFixed(3)} ${live[0] ? 'live' : 'attack'}, B ${rb.liveness.aggregate.toFixed(3)} ${live[1] ? 'live' : 'attack'}  (threshold ${livenessThreshold}, ${ra.liveness.ensemble})`);
    io.out(`decision  ${decision.accepted ? 'accept' : `reject (${[!matched && 'no match', !live[0] && 'A not live', !live[1] && 'B not live'].filter(Boolean).join(', ')})`}`);
    return decision.accepted ? 0 : 1;
  } finally {
    await pipeline.close();
  }
}
