/**
 * One bench:smtp measurement: smtp-source sends N messages of a given size over S parallel sessions to
 * an MTA on loopback; the MTA delivers them to a counting smtp-sink (or its own Maildir). Two rates:
 * accepted msg/s (until smtp-source has had every 250, i.e. every message is on the MTA's disk) and
 * end-to-end msg/s (from the same start until the last message is counted at the destination). The
 * MTA's resident memory is sampled while the load runs when its pid is known (one process: Mailgate).
 */
import { readFile } from 'node:fs/promises';
import { runSmtpSource } from '../../test/interop/harness/smtp-source.js';

/** An MTA under load: where smtp-source connects and how to count what it delivered. */
export interface MtaUnderTest {
  readonly name: string;
  readonly port: number;
  /** The process whose memory is sampled (undefined: not sampled). */
  readonly pid?: number;
  /** Messages delivered so far, cumulative over the MTA's life (e.g. the sink's count()). */
  delivered(): number | Promise<number>;
  stop(): Promise<void>;
}

export interface Load {
  sessions: number;
  messages: number;
  /** Payload bytes per message (smtp-source -l). */
  size: number;
  /** Several messages per connection (smtp-source -d). */
  reuse: boolean;
}

export interface Measurement {
  mta: string;
  load: Load;
  acceptedPerSec: number;
  endToEndPerSec: number;
  /** Peak resident set during the run, MB (NaN when not sampled). */
  peakRssMb: number;
  /** The MTA process's CPU time (user + system) per message until the last delivery, ms (NaN when not sampled). */
  cpuMsPerMessage: number;
  /** What went wrong, if the run did not complete (the rates are then NaN). */
  problem?: string;
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  return kb === undefined ? NaN : Number(kb) / 1024;
}

/** user + system CPU time of `pid` so far, ms (fields 14 and 15 of /proc/PID/stat, in clock ticks of 10 ms). */
async function cpuMs(pid: number | undefined): Promise<number> {
  if (pid === undefined) return NaN;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // The command name (field 2) may hold spaces: count from the ')' that closes it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? ticks * 10 : NaN;
}

/** Runs `load` against `mta` and waits (at most deliveryTimeoutMs) for every message to be delivered. */
export async function measure(mta: MtaUnderTest, load: Load, deliveryTimeoutMs = 600_000): Promise<Measurement> {
  const before = await mta.delivered();
  let peak = NaN;
  const sampler =
    mta.pid === undefined
      ? undefined
      : setInterval(() => {
          void rssMb(mta.pid ?? 0).then((mb) => {
            if (Number.isFinite(mb) && !(mb <= peak)) peak = mb; // peak starts NaN
          });
        }, 100);
  const cpuBefore = await cpuMs(mta.pid);
  const started = performance.now();
  try {
    const sent = await runSmtpSource({
      port: mta.port,
      sessions: load.sessions,
      messages: load.messages,
      size: load.size,
      reuseConnection: load.reuse,
      from: 'bench@source.example',
      to: 'rcpt@sink.example',
      timeoutMs: deliveryTimeoutMs,
    });
    const acceptedMs = performance.now() - started;
    const base = (): Pick<Measurement, 'mta' | 'load' | 'peakRssMb' | 'cpuMsPerMessage'> => ({ mta: mta.name, load, peakRssMb: peak, cpuMsPerMessage: NaN });
    if (sent.exitCode !== 0 || sent.completed !== load.messages) {
      const problem = `smtp-source exit ${sent.exitCode}${sent.signal ? ` (${sent.signal})` : ''}, ${sent.completed}/${load.messages} accepted: ${sent.output.replace(/[\d\r]+\r/g, '').trim().slice(-300)}`;
      return { ...base(), acceptedPerSec: NaN, endToEndPerSec: NaN, problem };
    }
    const deadline = started + deliveryTimeoutMs;
    let delivered = (await mta.delivered()) - before;
    while (delivered < load.messages && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
      delivered = (await mta.delivered()) - before;
    }
    const endMs = performance.now() - started;
    if (delivered < load.messages) {
      return { ...base(), acceptedPerSec: (load.messages * 1000) / acceptedMs, endToEndPerSec: NaN, problem: `only ${delivered}/${load.messages} delivered in ${deliveryTimeoutMs / 1000} s` };
    }
    const cpu = ((await cpuMs(mta.pid)) - cpuBefore) / load.messages;
    return { ...base(), cpuMsPerMessage: cpu, acceptedPerSec: (load.messages * 1000) / acceptedMs, endToEndPerSec: (load.messages * 1000) / endMs };
  } finally {
    if (sampler) clearInterval(sampler);
  }
}
