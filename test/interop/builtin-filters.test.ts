// Every built-in filter as an administrator runs it: `mailgate manager -c mailgate.toml` (the real
// command) with `builtin = "..."` children only, between a private Postfix and the real scanners.
//
//   swaks (XCLIENT ADDR=192.0.2.10) → Postfix (smtpd_milters = the manager's socket)
//     → mailgate manager → rules (add_header / reject)
//                        → auth (SPF via a loopback DNS stub, Authentication-Results)
//                        → greylist (SQLite in data_dir; 192.0.2.0/24 whitelisted)
//                        → spamassassin → spamd (reject_score 15)
//                        → clamav → clamd (EICAR .ndb, on_infected = reject)
//     → smtp-sink
//
// A peer that cannot start makes every test FAIL (setupGuard), never skip.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startClamd, EICAR, EICAR_VIRUS_NAME, type Clamd } from './harness/clamd.js';
import { startDnsStub, type DnsStub } from './harness/dns-stub.js';
import { postfixSpec } from './harness/endpoint.js';
import { startManager, type Manager } from './harness/manager.js';
import { startPostfix, type Postfix } from './harness/postfix.js';
import { describeResult, runCommand, waitFor } from './harness/process.js';
import { setupGuard } from './harness/setup-guard.js';
import { startSpamd, GTUBE, type Spamd } from './harness/spamd.js';
import { Teardown } from './harness/teardown.js';
import { makeTempDir, type TempDir } from './harness/tmpdir.js';

const LIMITS = { timeout: 60_000 };
const SENDER_DOMAIN = 'sender.example';
const CLIENT = '192.0.2.10';

function managerToml(o: { socketPath: string; dataDir: string; dns: string; spamdPort: number; clamdSocket: string }): string {
  return `
data_dir = "${o.dataDir}"

[manager]
connection_spec = "unix:${o.socketPath}"
unix_socket_group = "postfix"
dns_servers = ["${o.dns}"]

[[milter]]
name = "rules"
builtin = "rules"

[[milter.rule]]
field = "header"
header = "Subject"
pattern = '/forbidden-word/i'
action = "reject"
reply = "550 5.7.1 No thanks"

[[milter.rule]]
field = "header"
header = "X-Mailer"
pattern = '^(\\S+)'
action = "add_header"
header_name = "X-Rule"
header_value = "mailer $1"

[[milter]]
name = "auth"
builtin = "auth"
authserv_id = "mx.test"

[[milter]]
name = "greylist"
builtin = "greylist"
conf_text = """
greylist 10m
racl whitelist addr 192.0.2.0/24
racl greylist default
"""

[[milter]]
name = "spamassassin"
builtin = "spamassassin"
spamd = "inet:${o.spamdPort}@127.0.0.1"
reject_score = 15
skip_authenticated = true

[[milter]]
name = "clamav"
builtin = "clamav"
clamd = "unix:${o.clamdSocket}"
on_infected = "reject"
`;
}

describe('Postfix → mailgate manager with every built-in filter (rules, auth, greylist, spamassassin, clamav)', LIMITS, () => {
  const td = new Teardown();
  const setup = setupGuard();
  let tmp: TempDir;
  let spamd: Spamd;
  let clamd: Clamd;
  let dns: DnsStub;
  let mgr: Manager;
  let pf: Postfix;
  let dataDir = '';

  beforeAll(() =>
    setup.run(async () => {
      tmp = await makeTempDir('builtin-filters');
      td.defer(() => tmp.remove());
      const started = await Promise.allSettled([
        (async () => (spamd = td.add(await startSpamd())))(),
        (async () => (clamd = td.add(await startClamd())))(),
        (async () => {
          dns = await startDnsStub({ [SENDER_DOMAIN]: { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] } });
          td.defer(() => dns.close());
        })(),
      ]);
      for (const s of started) if (s.status === 'rejected') throw s.reason;
      const socketPath = join(tmp.path, 'manager', 'manager.sock');
      dataDir = join(tmp.path, 'data');
      const toml = managerToml({ socketPath, dataDir, dns: dns.server, spamdPort: spamd.port, clamdSocket: clamd.socketPath });
      mgr = td.add(await startManager({ dir: tmp.path, fileName: 'mailgate.toml', config: { socketPath, children: [] } }));
      // startManager writes a remote-children file; the real file is the built-in one, loaded by a restart.
      await mgr.restart(toml);
      pf = td.add(
        await startPostfix({
          milterSpec: postfixSpec({ kind: 'unix', path: socketPath }),
          extra: { mynetworks: '127.0.0.0/8 192.0.2.0/24', milter_default_action: 'tempfail' },
        }),
      );
    }),
  );
  afterAll(() => td.run());

  const send = async (subject: string, body: string, extra: readonly string[] = []) => {
    const args = [
      '--server', `127.0.0.1:${pf.port}`,
      '--from', `someone@${SENDER_DOMAIN}`,
      '--to', 'rcpt@example.org',
      '--helo', 'mail.sender.example',
      '--xclient-addr', CLIENT,
      '--xclient-name', 'mail.sender.example',
      '--timeout', '40s',
      '--header', `Subject: ${subject}`,
      '--body', body,
      ...extra,
    ]; // prettier-ignore
    return runCommand('/usr/bin/swaks', args, { timeoutMs: 50_000 });
  };

  const atSink = (subject: string): Promise<string> =>
    waitFor(
      `message "${subject}" at the smtp-sink`,
      async () => (await pf.sink!.messages()).find((m) => m.includes(`Subject: ${subject}`) && m.endsWith('\n\n')),
      { timeoutMs: 20_000, diagnostics: async () => `--- maillog ---\n${await pf.log()}\n--- manager ---\n${mgr.output()}` },
    );

  test('ordinary mail passes every filter and carries each one\'s headers', async () => {
    setup.check();
    const r = await send('builtin-ham', 'Hello, a perfectly ordinary message.', ['--header', 'X-Mailer: Swaks-Test 1.0']);
    expect(r.exitCode, describeResult(r)).toBe(0);
    const message = await atSink('builtin-ham');
    expect(message).toMatch(/^X-Rule: mailer Swaks-Test/m);
    expect(message).toMatch(/^Authentication-Results: mx\.test;[\s\S]*spf=pass/m);
    expect(message).toMatch(/^X-Greylist:/m);
    expect(message).toMatch(/^X-Spam-Status: No/m);
    expect(message).toMatch(/^X-Virus-Status: Clean/m);
    // The greylist state is in the configured data directory.
    expect(existsSync(join(dataDir, 'greylist.sqlite'))).toBe(true);
  });

  test('GTUBE is refused 550 5.7.1 by SpamAssassin', async () => {
    setup.check();
    const r = await send('builtin-gtube', `spam follows\n${GTUBE}\n`);
    expect(r.exitCode, describeResult(r)).not.toBe(0);
    expect(r.stdout).toMatch(/<\*\* 550 5\.7\.1 Blocked by SpamAssassin/);
  });

  test('EICAR is refused 550 with the virus name by ClamAV', async () => {
    setup.check();
    const r = await send('builtin-eicar', `${EICAR}\n`);
    expect(r.exitCode, describeResult(r)).not.toBe(0);
    expect(r.stdout).toMatch(new RegExp(`<\\*\\* 550 5\\.7\\.1 .*${EICAR_VIRUS_NAME.replace(/\./g, '\\.')}`));
  });

  test('a rule refuses with its own reply', async () => {
    setup.check();
    const r = await send('builtin forbidden-word here', 'body');
    expect(r.exitCode, describeResult(r)).not.toBe(0);
    expect(r.stdout).toMatch(/<\*\* 550 5\.7\.1 No thanks/);
  });
});
