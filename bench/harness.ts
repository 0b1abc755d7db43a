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

/** CPU seconds so far of each Postgres process, by pid (to be compared with a later snapshot). */
export function postgresCpuByPid(): Map<number, number> {
  const byPid = new Map<number, number>();
  cpuOf((pid, comm) => {
    if (comm === 'postgres') byPid.set(pid, cpuSeconds(pid));
    return false;
  });
  return byPid;
}

/**
 * CPU seconds the backends `pids` (one database's connections) used since `before`; a backend
 * started since counts from zero. Unlike all of Postgres' CPU, other work on the server does not
 * count: only background writers shared by every database are left out.
 */
export function backendCpuSecondsSince(before: Map<number, number>, pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += cpuSeconds(pid) - (before.get(pid) ?? 0);
    } catch {
      // the backend exited (connection closed): its CPU is lost to this count
    }
  }
  return total;
}
/** The provider: the process we started and, in cluster mode, its workers. */
export const providerCpuSeconds = (root: number) => cpuOf((pid, _comm, ppid) => pid === root || ppid === root);

/**
 * The same processes' main threads alone (the thread whose id is the process id): the JavaScript
 * that serves requests, without libuv's pool (RS256 signatures) or V8's helper threads. One busy
 * main thread is what limits a process's throughput.
 */
export const providerMainThreadCpuSeconds = (root: number) => {
  let total = 0;
  cpuOf((pid, _comm, ppid) => {
    if (pid === root || ppid === root) total += cpuSeconds(`${pid}/task/${pid}`);
    return false;
  });
  return total;
};
