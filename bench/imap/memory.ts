/**
 * Memory of a server as bench:imap counts it: for one process (Mailgate) its resident set (VmRSS, which is
 * also its PSS: nothing of it is shared with another process of the server); for a server of many
 * processes (Dovecot's master, its services and one imap process per connection) the sum of their PSS
 * (/proc/PID/smaps_rollup), so pages the processes share are counted once in all, not once per process.
 */
import { readdir, readFile } from 'node:fs/promises';

/** kB of one field (`VmRSS:`, `Pss:`) of a /proc file, or NaN when the process is gone. */
async function field(path: string, name: string): Promise<number> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
  return m === null ? NaN : Number(m[1]);
}

export const rssKb = (pid: number): Promise<number> => field(`/proc/${pid}/status`, 'VmRSS');
export const pssKb = (pid: number): Promise<number> => field(`/proc/${pid}/smaps_rollup`, 'Pss');

/** `root` and every process below it (from the parent pids of /proc/PID/stat). */
export async function processTree(root: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // The command name (field 2) may hold spaces: count from the ')' that closes it.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!Number.isFinite(ppid)) continue;
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** The sum of PSS over `root`'s process tree, kB, and how many processes it has. */
export async function treePssKb(root: number): Promise<{ kb: number; processes: number }> {
  const pids = await processTree(root);
  let kb = 0;
  let processes = 0;
  for (const pid of pids) {
    const v = await pssKb(pid);
    if (Number.isFinite(v)) {
      kb += v;
      processes++;
    }
  }
  return { kb, processes };
}

/** Fields 14–17 of /proc/PID/stat: utime, stime, cutime, cstime (clock ticks of 10 ms). */
async function cpuTicks(pid: number): Promise<number[]> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (stat === '') return [0, 0, 0, 0];
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [11, 12, 13, 14].map((i) => Number(f[i]) || 0);
}

/**
 * CPU time (user + system) used so far by `root`'s whole process tree, ms: each live process's own, plus
 * what the root has collected from children that exited (Dovecot's master reaps its per-connection
 * processes; Mailgate has none), so a phase's CPU is the difference of two readings.
 */
export async function treeCpuMs(root: number): Promise<number> {
  let ticks = 0;
  for (const pid of await processTree(root)) {
    const [u, s, cu, cs] = await cpuTicks(pid);
    ticks += u! + s! + (pid === root ? cu! + cs! : 0);
  }
  return ticks * 10;
}
