/**
 * bench:smtp's Mailgate side: `mailgate start` from dist/ with a temp configuration whose delivery
 * relay_host is the counting smtp-sink, fsync on (the only mode), chain empty or with one built-in
 * filter. Mirrors bench/smtp/postfix.ts.
 * The process's log lines go to a file in its temp dir (as the reference Postfix's maillog_file).
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePorts } from '../../test/interop/harness/ports.js';
import { startDaemon, waitFor } from '../../test/interop/harness/process.js';
import { tcpListening } from '../../test/interop/harness/endpoint.js';
import { makeTempDir } from '../../test/interop/harness/tmpdir.js';
import type { SmtpSink } from '../../test/interop/harness/smtp-sink.js';
import type { MtaUnderTest } from './measure.js';

export type MailgateVariant = 'empty-chain' | 'one-filter';

/** The built-in filter of the 'one-filter' variant: a rules filter with one header rule that never matches. */
const ONE_FILTER = `
[[milter]]
name = "rules"
builtin = "rules"

[[milter.rule]]
field = "header"
header = "Subject"
pattern = '/never-matches-in-bench-smtp/i'
action = "reject"
reply = "550 5.7.1 No thanks"
`;

/** The configuration `mailgate start --config` reads (checked with `mailgate show-config`). */
function config(dataDir: string, ports: { mx: number; submission: number; tls: number; milter: number }, sink: SmtpSink, variant: MailgateVariant): string {
  return `data_dir = "${dataDir}"

[manager]
connection_spec = "inet:${ports.milter}@[127.0.0.1]"

[smtp]
listen = ["127.0.0.1:${ports.mx}"]
mynetworks = ["127.0.0.0/8"]

[submission]
listen = ["127.0.0.1:${ports.submission}"]
tls_listen = ["127.0.0.1:${ports.tls}"]

[delivery]
relay_host = "[127.0.0.1]:${sink.port}"
${variant === 'one-filter' ? ONE_FILTER : ''}`;
}

/** `mailgate start` relaying to `sink`. */
/** The V8 flags the installed command runs with: those of its first line (#!/usr/bin/env -S node FLAGS). */
function nodeFlags(cli: string): string[] {
  const first = readFileSync(cli, 'utf8').split('\n', 1)[0] ?? '';
  return /^#!\/usr\/bin\/env -S node\s+(.*)$/.exec(first)?.[1]?.split(/\s+/).filter(Boolean) ?? [];
}

/** `profileDir`: node's --cpu-prof into that directory (written when the process exits after SIGTERM). */
export async function startMailgateUnderTest(sink: SmtpSink, variant: MailgateVariant, profileDir?: string): Promise<MtaUnderTest> {
  const cli = process.env['MAILGATE_CLI'] ?? join(process.cwd(), 'dist', 'cli', 'main.js');
  if (!existsSync(cli)) throw new Error(`${cli} does not exist: run \`npm run build\` first`);
  const tmp = await makeTempDir('bench-smtp');
  // at once: freePort() in a row can hand one port out twice
  const [mx, submission, tls, milter] = (await freePorts(4)) as [number, number, number, number];
  const ports = { mx, submission, tls, milter };
  const file = join(tmp.path, 'mailgate.toml');
  await writeFile(file, config(join(tmp.path, 'data'), ports, sink, variant));
  // Its log lines go to a file, as the reference Postfix's go to maillog_file: piped into this process
  // (startDaemon keeps every line in memory), 8 JSON lines per message would cost the bench's own CPU on
  // the same cores. `exec` keeps the pid, the one whose memory is sampled.
  const log = join(tmp.path, 'mailgate.log');
  const daemon = startDaemon('mailgate start', '/bin/sh', ['-c', 'exec "$0" "$@" 2>>"$MAILGATE_BENCH_LOG"', process.execPath, ...nodeFlags(cli), ...(profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]), cli, 'start', '--config', file], {
    cwd: tmp.path,
    env: { ...process.env, MAILGATE_BENCH_LOG: log },
  });
  const stop = async (): Promise<void> => {
    await daemon.stop(15_000);
    await tmp.remove();
  };
  try {
    await waitFor('mailgate start: MX listener', async () => ((await tcpListening(ports.mx)) ? true : undefined), { daemon, timeoutMs: 30_000 });
  } catch (err) {
    await stop();
    throw err;
  }
  return { name: `mailgate (${variant})`, port: ports.mx, pid: daemon.pid, delivered: () => sink.count(), stop };
}
