/**
 * `npm run eval -- --data DIR --out report.json` (or `--faces ../shared/faces` to build the layout
 * from the shared collection first): runs the evaluation and writes the JSON, a Markdown report and
 * the DET plot (SVG) beside it.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildEvalLayout } from './buildLayout.ts';
import { detPlotSvg } from './detPlot.ts';
import { renderReport } from './renderReport.ts';
import { runEvaluation } from './runEvaluation.ts';

const usage = `usage: npm run eval -- (--data DIR | --faces DIR) --out report.json [--markdown REPORT.md] [--svg det.svg]
  --data DIR     evaluation layout: DIR/identities/<id>/*, DIR/pad/live/*, DIR/pad/<species>/*
  --faces DIR    build that layout (symbolic links) from a collection like ../shared/faces first
  --out FILE     JSON report
  --markdown     Markdown report (default: REPORT.md beside --out)
  --svg          DET plot (default: det.svg beside --out)`;

/** Write through a temporary file so a failed run never leaves a half-written report. */
function writeAtomic(file: string, text: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { data: { type: 'string' }, faces: { type: 'string' }, out: { type: 'string' }, markdown: { type: 'string' }, svg: { type: 'string' } },
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
  if (values.faces) {
    scratch = mkdtempSync(path.join(tmpdir(), 'facegate-eval-'));
    const summary = buildEvalLayout(values.faces, scratch);
    console.error(`layout: ${summary.images} photos of ${summary.identities} identities; PAD ${JSON.stringify(summary.pad)}`);
    data = scratch;
  }
  try {
    const result = await runEvaluation({ data: data!, onProgress: (m) => console.error(m) });
    const source = values.faces ?? values.data!;
    const out = values.out;
    const svgFile = values.svg ?? path.join(path.dirname(out), 'det.svg');
    const mdFile = values.markdown ?? path.join(path.dirname(out), 'REPORT.md');
    const report = { ...result, data: source, generatedAt: new Date().toISOString() };
    writeAtomic(out, JSON.stringify(report, null, 2) + '\n');
    const curves = result.verification.candidates.map((c) => ({ label: `${c.label}${c.isDefault ? ' (default)' : ''}`, points: c.det }));
    writeAtomic(svgFile, detPlotSvg(curves, `DET, ${result.verification.genuinePairs} genuine / ${result.verification.impostorPairs} impostor pairs`));
    writeAtomic(mdFile, renderReport(report, path.relative(path.dirname(mdFile), svgFile)));
    console.error(`wrote ${out}, ${mdFile}, ${svgFile}`);
    return 0;
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
