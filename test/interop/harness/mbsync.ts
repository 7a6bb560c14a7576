// mbsync (Debian's isync 1.4.4) as the real client that syncs a mailbox both ways: Far = the IMAP server
// under test, Near = a local Maildir tree in a temp dir, every folder (Patterns *), Create/Expunge Both,
// SyncState * (the state file in each near folder). Plaintext on loopback needs `AuthMechs LOGIN` (isync
// refuses LOGIN without TLS unless it is named) and SSLType None; STARTTLS/IMAPS trust the server's own
// self-signed certificate through CertificateFile (isync takes a certificate listed there as is).
// The near side is read back as mbsync wrote it: file names carry the near UID (`,U=n`) and the Maildir
// flags (`:2,FRS`), the state file pairs far UIDs with near UIDs, and the message text has LF line ends.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeResult, runCommand, type CommandResult } from './process.js';

export const MBSYNC = '/usr/bin/mbsync';

export interface MbsyncOptions {
  /** A private directory: the config, the password file and the near Maildir tree go there. */
  dir: string;
  port: number;
  user: string;
  password: string;
  ssl?: 'None' | 'STARTTLS' | 'IMAPS';
  /** PEM certificate to trust for STARTTLS/IMAPS (the server's self-signed one). */
  certificateFile?: string;
}

export interface NearMessage {
  folder: string;
  /** The name in new/ or cur/. */
  file: string;
  path: string;
  /** The near UID mbsync put in the name (,U=n), if any. */
  nearUid?: number;
  /** IMAP flags from the Maildir info, sorted. */
  flags: string[];
  text: string;
}

export interface SyncPair {
  farUid: number;
  nearUid: number;
  /** The flags mbsync last saw on both sides, as IMAP flags, sorted. */
  flags: string[];
}

export interface Mbsync {
  readonly near: string;
  readonly configFile: string;
  /** mbsync -a; throws with the transcript unless it exits 0. */
  sync(extra?: readonly string[]): Promise<CommandResult>;
  /** The near folders mbsync made (directory names under the near root). */
  folders(): Promise<string[]>;
  messages(folder: string): Promise<NearMessage[]>;
  /** The sync state's pairs of far and near UIDs for a folder, with UIDVALIDITY of both sides. */
  state(folder: string): Promise<{ farUidValidity: number; pairs: SyncPair[] }>;
  /** Sets a near message's flags by renaming its file (as a Maildir client such as mutt does). */
  setFlags(msg: NearMessage, flags: readonly string[]): Promise<void>;
  remove(msg: NearMessage): Promise<void>;
  /** Drops a new message into a near folder's new/, as a local MDA or client would. */
  add(folder: string, text: string): Promise<void>;
}

const MAILDIR_FLAGS: Record<string, string> = { D: '\\Draft', F: '\\Flagged', R: '\\Answered', S: '\\Seen', T: '\\Deleted' };
const LETTER_OF = Object.fromEntries(Object.entries(MAILDIR_FLAGS).map(([l, f]) => [f, l]));

function flagsOfInfo(info: string): string[] {
  return [...info].map((l) => MAILDIR_FLAGS[l]).filter((f): f is string => f !== undefined).sort();
}

// mbsync's state file flags: the same letters as the Maildir info (isync's sync.c), other marks dropped.
function flagsOfState(s: string): string[] {
  return flagsOfInfo(s.replace(/[^DFRST]/g, ''));
}

let uniq = 0;

export async function makeMbsync(opts: MbsyncOptions): Promise<Mbsync> {
  const near = join(opts.dir, 'near');
  await mkdir(near, { recursive: true });
  const passFile = join(opts.dir, 'mbsync-pass');
  await writeFile(passFile, opts.password, { mode: 0o600 });
  const ssl = opts.ssl ?? 'None';
  const configFile = join(opts.dir, 'mbsyncrc');
  const lines = [
    'IMAPAccount far',
    'Host 127.0.0.1',
    `Port ${opts.port}`,
    `User ${opts.user}`,
    `PassCmd "cat ${passFile}"`,
    `SSLType ${ssl}`,
    ...(ssl === 'None' ? ['AuthMechs LOGIN'] : []),
    ...(opts.certificateFile !== undefined ? [`CertificateFile ${opts.certificateFile}`] : []),
    'Timeout 20',
    '',
    'IMAPStore far',
    'Account far',
    '',
    'MaildirStore near',
    `Path ${near}/`,
    `Inbox ${near}/INBOX`,
    'SubFolders Verbatim',
    '',
    'Channel both',
    'Far :far:',
    'Near :near:',
    'Patterns *',
    'Create Both',
    'Remove None',
    'Expunge Both',
    'SyncState *',
    '',
  ];
  await writeFile(configFile, lines.join('\n'));
  const folderDir = (folder: string): string => join(near, folder);
  const messages = async (folder: string): Promise<NearMessage[]> => {
    const out: NearMessage[] = [];
    for (const sub of ['new', 'cur']) {
      let names: string[] = [];
      try {
        names = await readdir(join(folderDir(folder), sub));
      } catch {
        continue;
      }
      for (const file of names.sort()) {
        const path = join(folderDir(folder), sub, file);
        const info = /:2,([^:]*)$/.exec(file)?.[1] ?? '';
        const u = /,U=(\d+)/.exec(file)?.[1];
        out.push({ folder, file, path, ...(u === undefined ? {} : { nearUid: Number(u) }), flags: flagsOfInfo(info), text: await readFile(path, 'utf8') });
      }
    }
    return out;
  };
  return {
    near,
    configFile,
    async sync(extra = []) {
      const r = await runCommand(MBSYNC, ['-c', configFile, ...extra, '-a'], { timeoutMs: 60_000, env: { ...process.env, HOME: opts.dir } });
      if (r.exitCode !== 0) throw new Error(`mbsync -a (Far = 127.0.0.1:${opts.port}) failed: ${describeResult(r)}`);
      return r;
    },
    async folders() {
      const entries = await readdir(near, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
    },
    messages,
    async state(folder) {
      const text = await readFile(join(folderDir(folder), '.mbsyncstate'), 'utf8');
      const [head = '', body = ''] = text.split(/\n\n/, 2);
      const farUidValidity = Number(/^FarUidValidity (\d+)$/m.exec(head)?.[1] ?? NaN);
      const pairs: SyncPair[] = [];
      for (const line of body.split('\n')) {
        const m = /^(\d+) (\d+) (.*)$/.exec(line);
        if (m) pairs.push({ farUid: Number(m[1]), nearUid: Number(m[2]), flags: flagsOfState(m[3]!) });
      }
      return { farUidValidity, pairs };
    },
    async setFlags(msg, flags) {
      const info = flags.map((f) => LETTER_OF[f] ?? '').sort().join('');
      const base = msg.file.replace(/:2,[^:]*$/, '');
      await rename(msg.path, join(folderDir(msg.folder), 'cur', `${base}:2,${info}`));
    },
    async remove(msg) {
      await rm(msg.path);
    },
    async add(folder, text) {
      uniq += 1;
      const name = `${Math.floor(Date.now() / 1000)}.M${uniq}P${process.pid}.testhost`;
      await writeFile(join(folderDir(folder), 'tmp', name), text);
      await rename(join(folderDir(folder), 'tmp', name), join(folderDir(folder), 'new', name));
    },
  };
}
