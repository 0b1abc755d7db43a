/** Shared shapes and helpers for benchmark parts (`bench/*.bench.ts`). */
import { readdirSync, readFileSync } from 'node:fs';

export type Figure = { value: number; unit: string };

export type BenchPart = {
  /** Section title in RESULTS.md. */
  title: string;
  /** Figures merged into bench/results.json, named `layer.what_unit`. */
  results: Record<string, Figure>;
  /** Markdown for the section: method, table, where the time goes. */
  markdown: string;
};

export { percentile, round } from '../src/stats.ts';

/** CPU seconds (user + system) used so far by one process (Linux /proc). */
function cpuSeconds(pid: number | string): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Sums CPU seconds over the processes `pick` selects from /proc (name, parent pid). */
function cpuOf(pick: (pid: number, comm: string, ppid: number) => boolean): number {
  let total = 0;
  for (const entry of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (pick(Number(entry), comm, ppid)) total += cpuSeconds(entry);
    } catch {
      // the process exited between listing and reading
    }
  }
  return total;
}

export const postgresCpuSeconds = () => cpuOf((_pid, comm) => comm === 'postgres');
/** The provider: the process we started and, in cluster mode, its workers. */
export const providerCpuSeconds = (root: number) => cpuOf((pid, _comm, ppid) => pid === root || ppid === root);
