/**
 * `npm run eval -- --data DIR --out report.json` (or `--faces ../shared/faces` to build the layout
 * from the shared collection first): runs the evaluation and writes the JSON, a Markdown report and
 * the DET plot (SVG) beside it. A layout may hold either half (identities/ or pad/); a bad layout
 * or pairs file is one line on stderr (`error <code>: …`, exit 1), not a stack trace.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FacegateError } from '../../errors.ts';
import { buildEvalLayout } from './buildLayout.ts';
import { livenessMain } from './livenessCli.ts';
import { detPlotSvg } from './detPlot.ts';
import { renderReport } from './renderReport.ts';
import { writeAtomic } from './writeAtomic.ts';
import { runEvaluation } from './runEvaluation.ts';

const usage = `usage: npm run eval -- (--data DIR | --faces DIR) --out report.json [--pairs FILE] [--markdown REPORT.md] [--svg det.svg]
       npm run eval -- liveness [--faces DIR | --data DIR] [--out eval/LIVENESS.md] (liveness calibration; --help for its options)
  --data DIR     evaluation layout: DIR/identities/<id>/*, DIR/pad/live/*, DIR/pad/<species>/* (either half may be missing)
  --faces DIR    build that layout (symbolic links) from a collection like ../shared/faces first
  --pairs FILE   pairs protocol over identities/: LFW pairs.txt, or a .csv (left,right,same[,fold]); k-fold accuracy
  --out FILE     JSON report
  --markdown     Markdown report (default: REPORT.md beside --out)
  --svg          DET plot (default: det.svg beside --out)`;

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'liveness') return livenessMain(argv.slice(1));
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { data: { type: 'string' }, faces: { type: 'string' }, out: { type: 'string' }, pairs: { type: 'string' }, markdown: { type: 'string' }, svg: { type: 'string' } },
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${usage}`);
    return 2;
  }
  if (!values.out || (!values.data === !values.faces)) {
    console.error(usage);
    return 2;
  }
  let data = values.data;
  let scratch: string | undefined;
  try {
    if (values.faces) {
      scratch = mkdtempSync(path.join(tmpdir(), 'facegate-eval-'));
      const summary = buildEvalLayout(values.faces, scratch);
      console.error(`layout: ${summary.images} photos of ${summary.identities} identities; PAD ${JSON.stringify(summary.pad)}`);
      data = scratch;
    }
    const result = await runEvaluation({ data: data!, pairs: values.pairs, onProgress: (m) => console.error(m) });
    const source = values.faces ?? values.data!;
    const out = values.out;
    const svgFile = values.svg ?? path.join(path.dirname(out), 'det.svg');
    const mdFile = values.markdown ?? path.join(path.dirname(out), 'REPORT.md');
    const report = { ...result, data: source, generatedAt: new Date().toISOString() };
    writeAtomic(out, JSON.stringify(report, null, 2) + '\n');
    const v = result.verification;
    if (v) {
      const curves = (['photo', 'capture'] as const).flatMap((policy) =>
        v.policies[policy].candidates
          .filter((c) => policy === v.policy || c.isDefault)
          .map((c) => ({ label: `${policy} policy: ${c.label}${c.isDefault ? ' (default)' : ''}`, points: c.det })),
      );
      writeAtomic(svgFile, detPlotSvg(curves, `DET, ${v.genuinePairs} genuine / ${v.impostorPairs} impostor pairs (${v.policy} policy)`));
    }
    writeAtomic(mdFile, renderReport(report, path.relative(path.dirname(mdFile), svgFile)));
    console.error(`wrote ${out}, ${mdFile}${v ? `, ${svgFile}` : ''}`);
    return 0;
  } catch (e) {
    if (!(e instanceof FacegateError)) throw e;
    console.error(`error ${e.code}: ${e.message}`);
    return 1;
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
