/** Shared shapes and helpers for benchmark parts (`bench/*.bench.ts`). */
export type Figure = { value: number; unit: string };

export type BenchPart = {
  /** Section title in RESULTS.md. */
  title: string;
  /** Figures merged into bench/results.json, named `layer.what_unit`. */
  results: Record<string, Figure>;
  /** Markdown for the section: method, table, where the time goes. */
  markdown: string;
};

/** Percentile (nearest-rank) of a list of numbers. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
