// Reading a mailbox over IMAP the way a mail client does, with Python's imaplib (Debian's
// /usr/bin/python3, standard library only): LOGIN, SELECT (read-write, so Dovecot syncs new/ into cur/
// as it does for a real client), optionally a UID STORE (a client marking messages), then UID FETCH of
// every message's UID, FLAGS, RFC822.SIZE and full text (BODY.PEEK[]: reading does not set \Seen).
// The script prints one JSON document; messages travel base64-encoded so any byte survives.
import { runCommand, describeResult } from './process.js';

export const PYTHON3 = '/usr/bin/python3';

export interface ImapMessage {
  uid: number;
  /** e.g. ["\\Seen"], ["\\Recent"]. */
  flags: string[];
  /** RFC822.SIZE as the server reports it (the size with CRLF line ends). */
  size: number;
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
  /** Before the fetch: `UID STORE <uids> <op> (<flags>)`, e.g. { uids: [1], op: '+FLAGS', flags: ['\\Seen'] }. */
  store?: { uids: readonly number[]; op: '+FLAGS' | '-FLAGS' | 'FLAGS'; flags: readonly string[] };
}

const SCRIPT = String.raw`
import base64, imaplib, json, re, sys
host, port, user, password, mailbox, store = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], json.loads(sys.argv[6])
m = imaplib.IMAP4(host, port, timeout=20)
m.login(user, password)
typ, data = m.select(mailbox)
if typ != 'OK':
    raise SystemExit('SELECT %s failed: %r' % (mailbox, data))
if store is not None:
    typ, data = m.uid('STORE', ','.join(str(u) for u in store['uids']), store['op'], '(%s)' % ' '.join(store['flags']))
    if typ != 'OK':
        raise SystemExit('UID STORE failed: %r' % (data,))
typ, data = m.select(mailbox)
out = []
if int(data[0]) > 0:
    typ, data = m.uid('FETCH', '1:*', '(UID FLAGS RFC822.SIZE BODY.PEEK[])')
    if typ != 'OK':
        raise SystemExit('UID FETCH failed: %r' % (data,))
    for item in data:
        if not isinstance(item, tuple):
            continue
        head = item[0].decode('latin-1')
        uid = int(re.search(r'UID (\d+)', head).group(1))
        flags = re.search(r'FLAGS \(([^)]*)\)', head).group(1).split()
        size = int(re.search(r'RFC822\.SIZE (\d+)', head).group(1))
        out.append({'uid': uid, 'flags': flags, 'size': size, 'raw': base64.b64encode(item[1]).decode('ascii')})
m.logout()
print(json.dumps(out))
`;

/** Every message in `mailbox` (default INBOX), in UID order; throws with the transcript when the login or a command fails. */
export async function imapMessages(opts: ImapOptions): Promise<ImapMessage[]> {
  const args = ['-c', SCRIPT, opts.host ?? '127.0.0.1', String(opts.port), opts.user, opts.password, opts.mailbox ?? 'INBOX', JSON.stringify(opts.store ?? null)];
  const r = await runCommand(PYTHON3, args, { timeoutMs: opts.timeoutMs ?? 30_000 });
  if (r.exitCode !== 0) throw new Error(`imaplib as ${opts.user} on port ${opts.port} failed: ${describeResult(r)}`);
  const parsed = JSON.parse(r.stdout) as Array<{ uid: number; flags: string[]; size: number; raw: string }>;
  return parsed
    .map((m) => {
      const raw = Buffer.from(m.raw, 'base64');
      return { uid: m.uid, flags: m.flags, size: m.size, raw, text: raw.toString('utf8') };
    })
    .sort((a, b) => a.uid - b.uid);
}
