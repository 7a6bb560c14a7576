// mutt (Debian's 2.2.12) reading a mailbox over IMAP in "batch mode": mutt has none for reading, so it runs
// under a pseudo-terminal (`script -qec "mutt -n -F RC" /dev/null`, TERM=vt100, HOME in the temp dir) with
// the commands pushed from its RC, e.g. tag every message, copy the tagged ones to an mbox, quit. When the
// server fails a command mutt stays on its index screen instead of exiting, so a run that does not end within
// the hang guard is a failure, reported with mutt's screen (the terminal output, control sequences stripped).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './process.js';

export const MUTT = '/usr/bin/mutt';

export interface MuttOptions {
  /** A private directory: HOME, the RC and the output mbox go there. */
  dir: string;
  port: number;
  user: string;
  password: string;
  mode?: 'plain' | 'starttls' | 'imaps';
  /** A PEM certificate to trust (the server's self-signed one), for starttls/imaps. */
  certificateFile?: string;
  mailbox?: string;
  /** mutt's key-binding functions to push, e.g. `<tag-pattern>~A<enter>...<quit>`. */
  push: string;
  /** Further RC lines. */
  rc?: readonly string[];
  timeoutMs?: number;
}

export interface MuttResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** What mutt drew, control sequences stripped: for failure messages. */
  screen: string;
}

/** The terminal output as readable text (CSI/OSC sequences and other controls removed). */
export function plainScreen(raw: string): string {
  /* eslint-disable no-control-regex -- removing a terminal's control sequences is the point */
  const text = raw
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, ' ')
    .replace(/\x1b\][^\x07]*\x07/g, '')
    .replace(/\x1b[()][0-9A-Za-z]/g, '')
    .replace(/\x1b./g, '')
    .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '')
    .replace(/ {2,}/g, ' ')
    .trim();
  /* eslint-enable no-control-regex */
  return text;
}

function quoted(s: string): string {
  if (/["\\`$\n]/.test(s)) throw new Error(`mutt: ${JSON.stringify(s)} cannot go in a muttrc string here`);
  return `"${s}"`;
}

/** Runs mutt once with `push` as its keystrokes; throws (with the screen) when it does not exit 0 in time. */
export async function runMutt(opts: MuttOptions): Promise<MuttResult> {
  const mode = opts.mode ?? 'plain';
  const scheme = mode === 'imaps' ? 'imaps' : 'imap';
  // The login name holds '@': percent-encoded in the URL.
  const url = `${scheme}://${encodeURIComponent(opts.user)}@127.0.0.1:${opts.port}/`;
  const rc = [
    `set folder=${quoted(url)}`,
    `set spoolfile=${quoted(`+${opts.mailbox ?? 'INBOX'}`)}`,
    `set imap_user=${quoted(opts.user)}`,
    `set imap_pass=${quoted(opts.password)}`,
    `set ssl_starttls=${mode === 'starttls' ? 'yes' : 'no'}`,
    `set ssl_force_tls=${mode === 'plain' ? 'no' : 'yes'}`,
    ...(opts.certificateFile !== undefined ? [`set certificate_file=${quoted(opts.certificateFile)}`, 'set ssl_verify_host=no'] : []),
    'set wait_key=no',
    'set confirmappend=no',
    'set confirmcreate=no',
    'set mbox_type=mbox',
    'set move=no',
    'set quit=yes',
    'set timeout=5',
    'set imap_keepalive=300',
    ...(opts.rc ?? []),
    `push ${quoted(opts.push)}`,
  ];
  const rcFile = join(opts.dir, 'muttrc');
  await writeFile(rcFile, `${rc.join('\n')}\n`, { mode: 0o600 });
  const r = await runCommand('/usr/bin/script', ['-qec', `${MUTT} -n -F ${rcFile}`, '/dev/null'], {
    timeoutMs: opts.timeoutMs ?? 20_000,
    env: { ...process.env, HOME: opts.dir, TERM: 'vt100', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', MAIL: '', COLUMNS: '132', LINES: '40' },
  });
  const result = { exitCode: r.exitCode, signal: r.signal, screen: plainScreen(r.stdout + r.stderr) };
  if (r.exitCode !== 0) {
    throw new Error(`mutt on 127.0.0.1:${opts.port} (${mode}) did not finish: exit ${r.exitCode}${r.signal ? `, killed by ${r.signal} (hang guard)` : ''}\n--- mutt's screen ---\n${result.screen.slice(-4_000)}`);
  }
  return result;
}

/** Keystrokes: copy every message of the open mailbox to `mbox` (created), then quit. */
export function copyAllTo(mbox: string): string {
  return `<tag-pattern>~A<enter><tag-prefix><copy-message>${mbox}<enter><quit>`;
}

/** The messages of an mbox file mutt wrote, split at its "From " lines. */
export async function readMbox(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8');
  return text.split(/^From [^\n]*\n/m).filter((m) => m !== '');
}
