// Reading a maildrop the way a POP3 client does, with Python's poplib (Debian's /usr/bin/python3, standard
// library only): POP3 (optionally stls()) or POP3_SSL (certificates not checked: the tests' are
// self-signed), user()/pass_(), capa(), stat(), list(), uidl(), retr() of every message, top(n, lines),
// optionally dele() of every message, quit(). The script prints one JSON document; message lines travel
// base64-encoded so any byte survives. A failing step is reported with poplib's error text.
import { access, constants } from 'node:fs/promises';
import { describeResult, runCommand } from './process.js';

export const PYTHON3 = '/usr/bin/python3';

export interface PoplibOptions {
  port: number;
  user: string;
  password: string;
  mode: 'plain' | 'stls' | 'ssl';
  /** dele() every message before quit(). */
  deleteAll?: boolean;
  /** top(1, n) for each n. */
  top?: readonly number[];
}

export interface PoplibResult {
  welcome: string;
  capa: Record<string, string[]>;
  stat: [number, number];
  list: string[];
  uidl: string[];
  /** Each message as poplib returns it: lines joined with CRLF (poplib strips the stuffing and line ends). */
  messages: { octets: number; text: Buffer }[];
  top: Buffer[];
  quit: string;
}

const SCRIPT = String.raw`
import base64, json, poplib, ssl, sys
port, user, password, mode, dele, tops = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == '1', json.loads(sys.argv[6])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if mode == 'ssl':
    p = poplib.POP3_SSL('127.0.0.1', port, context=ctx, timeout=20)
else:
    p = poplib.POP3('127.0.0.1', port, timeout=20)
    if mode == 'stls':
        p.stls(context=ctx)
out = {'welcome': p.getwelcome().decode('latin-1')}
out['capa'] = p.capa()
p.user(user)
p.pass_(password)
out['stat'] = list(p.stat())
out['list'] = [l.decode('latin-1') for l in p.list()[1]]
out['uidl'] = [l.decode('latin-1') for l in p.uidl()[1]]
msgs = []
for i in range(1, out['stat'][0] + 1):
    resp, lines, octets = p.retr(i)
    msgs.append({'octets': octets, 'text': base64.b64encode(b'\r\n'.join(lines)).decode('ascii')})
out['messages'] = msgs
out['top'] = [base64.b64encode(b'\r\n'.join(p.top(1, n)[1])).decode('ascii') for n in tops] if out['stat'][0] > 0 else []
if dele:
    for i in range(1, out['stat'][0] + 1):
        p.dele(i)
out['quit'] = p.quit().decode('latin-1')
print(json.dumps(out))
`;

/** Fails loudly when python3 is missing (it is a Debian base package; the tests never skip). */
export async function requirePython(): Promise<void> {
  try {
    await access(PYTHON3, constants.X_OK);
  } catch {
    throw new Error(`${PYTHON3} is missing: install python3 (Debian: apt-get install python3)`);
  }
}

export async function poplibSession(opts: PoplibOptions): Promise<PoplibResult> {
  await requirePython();
  const args = ['-c', SCRIPT, String(opts.port), opts.user, opts.password, opts.mode, opts.deleteAll ? '1' : '0', JSON.stringify(opts.top ?? [])];
  const r = await runCommand(PYTHON3, args, { timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new Error(`poplib (${opts.mode}) as ${opts.user} on port ${opts.port} failed: ${describeResult(r)}`);
  const parsed = JSON.parse(r.stdout) as Omit<PoplibResult, 'messages' | 'top'> & { messages: { octets: number; text: string }[]; top: string[] };
  return {
    ...parsed,
    messages: parsed.messages.map((m) => ({ octets: m.octets, text: Buffer.from(m.text, 'base64') })),
    top: parsed.top.map((t) => Buffer.from(t, 'base64')),
  };
}

/** A poplib step expected to fail: its error text (e.g. the server's -ERR line). */
export async function poplibLoginError(opts: Omit<PoplibOptions, 'deleteAll' | 'top'>): Promise<string> {
  await requirePython();
  const script = String.raw`
import poplib, ssl, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1]), timeout=20)
try:
    p.user(sys.argv[2])
    p.pass_(sys.argv[3])
    print('no error')
except poplib.error_proto as e:
    print(e.args[0].decode('latin-1'))
`;
  const r = await runCommand(PYTHON3, ['-c', script, String(opts.port), opts.user, opts.password], { timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new Error(`poplib failed: ${describeResult(r)}`);
  return r.stdout.trim();
}
