// Reading a mailbox over IMAP the way a mail client does, with Python's imaplib (Debian's
// /usr/bin/python3, standard library only): LOGIN, SELECT (read-write, so Dovecot syncs new/ into cur/
// as it does for a real client), UID FETCH of every message's UID, FLAGS and full text (BODY.PEEK[]:
// reading does not set \Seen).
// The script prints one JSON document; messages travel base64-encoded so any byte survives.
import { runCommand, describeResult } from './process.js';

export const PYTHON3 = '/usr/bin/python3';

export interface ImapMessage {
  uid: number;
  /** e.g. ["\\Seen"], ["\\Recent"]. */
  flags: string[];
  /** The message as Dovecot serves it (RFC822). */
  raw: Buffer;
  /** raw decoded as UTF-8. */
  text: string;
}

export interface ImapOptions {
  host?: string;
  port: number;
  user: string;
  password: string;
  mailbox?: string;
  timeoutMs?: number;
}

const SCRIPT = String.raw`
import base64, imaplib, json, re, sys
host, port, user, password, mailbox = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
m = imaplib.IMAP4(host, port, timeout=20)
m.login(user, password)
typ, data = m.select(mailbox)
if typ != 'OK':
    raise SystemExit('SELECT %s failed: %r' % (mailbox, data))
out = []
if int(data[0]) > 0:
    typ, data = m.uid('FETCH', '1:*', '(UID FLAGS BODY.PEEK[])')
    if typ != 'OK':
        raise SystemExit('UID FETCH failed: %r' % (data,))
    for item in data:
        if not isinstance(item, tuple):
            continue
        head = item[0].decode('latin-1')
        uid = int(re.search(r'UID (\d+)', head).group(1))
        flags = re.search(r'FLAGS \(([^)]*)\)', head).group(1).split()
        out.append({'uid': uid, 'flags': flags, 'raw': base64.b64encode(item[1]).decode('ascii')})
m.logout()
print(json.dumps(out))
`;

/** Every message in `mailbox` (default INBOX), in UID order; throws with the transcript when the login or a command fails. */
export async function imapMessages(opts: ImapOptions): Promise<ImapMessage[]> {
  const args = ['-c', SCRIPT, opts.host ?? '127.0.0.1', String(opts.port), opts.user, opts.password, opts.mailbox ?? 'INBOX'];
  const r = await runCommand(PYTHON3, args, { timeoutMs: opts.timeoutMs ?? 30_000 });
  if (r.exitCode !== 0) throw new Error(`imaplib as ${opts.user} on port ${opts.port} failed: ${describeResult(r)}`);
  const parsed = JSON.parse(r.stdout) as Array<{ uid: number; flags: string[]; raw: string }>;
  return parsed
    .map((m) => {
      const raw = Buffer.from(m.raw, 'base64');
      return { uid: m.uid, flags: m.flags, raw, text: raw.toString('utf8') };
    })
    .sort((a, b) => a.uid - b.uid);
}
