// [trust] domains_file end to end: swaks → a private Postfix → `mailgate manager` (the built CLI, so
// SIGHUP is the manager's real reload) → the built-in greylist child under the Trust condition →
// smtp-sink. The trusted domains come only from the file (replace_defaults = true, no `domains`), named
// relative to mailgate.toml. SPF for every sender domain passes (the loopback DNS stub answers
// `v=spf1 ip4:127.0.0.1 -all`), so "trusted" alone decides between accepted at once and greylisted.
//
//   swaks → Postfix (smtpd_milters = the manager's socket) → mailgate manager → greylist (Trust)
//         → smtp-sink
//
// A peer that cannot start makes every test FAIL with the start error (setupGuard), never skip.
import { spawnSync } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startDnsStub, type DnsStub } from './harness/dns-stub.js';
import { postfixSpec } from './harness/endpoint.js';
import { MAILGATE_CLI } from './harness/mailgate.js';
import { startManager, type Manager } from './harness/manager.js';
import { startPostfix, type Postfix } from './harness/postfix.js';
import { describeResult, waitFor } from './harness/process.js';
import { setupGuard } from './harness/setup-guard.js';
import { sendWithSwaks } from './harness/swaks.js';
import { Teardown } from './harness/teardown.js';
import { makeTempDir, type TempDir } from './harness/tmpdir.js';

const LIMITS = { timeout: 90_000 };
const GREYLIST_TEXT = '451 4.7.1 Greylisting in action';
const SPF_PASS = { TXT: ['v=spf1 ip4:127.0.0.1 -all'] };

const mailgateToml = (socketPath: string, dns: string): string => `
data_dir = "data"

[manager]
connection_spec = "unix:${socketPath}"
unix_socket_group = "postfix"
dns_servers = ["${dns}"]

[trust]
replace_defaults = true
domains_file = "trusted-domains.txt"   # relative: beside this file

[[milter]]
name = "greylist"
builtin = "greylist"
store = "memory"
applicable_conditions = ["Trust"]
conf_text = """
subnetmatch /24
greylist 10m
sm_macro "trusted_domain" "{trusted_domain}" "yes"
racl whitelist sm_macro "trusted_domain" spf pass
racl greylist default
"""
`;

describe('Trust with domains_file: Postfix → mailgate manager → greylist', LIMITS, () => {
  const td = new Teardown();
  const setup = setupGuard();
  let tmp: TempDir;
  let dns: DnsStub;
  let mgr: Manager;
  let pf: Postfix;
  let domainsFile = '';

  beforeAll(() =>
    setup.run(async () => {
      tmp = await makeTempDir('trust-domains');
      td.defer(() => tmp.remove());
      dns = await startDnsStub({ 'friends.example': SPF_PASS, 'later.example': SPF_PASS, 'gmail.com': SPF_PASS });
      td.defer(() => dns.close());
      domainsFile = join(tmp.path, 'trusted-domains.txt');
      await writeFile(domainsFile, '# partners\n\nFriends.EXAMPLE   # since 2026\n');
      const socketPath = join(tmp.path, 'manager', 'manager.sock');
      mgr = td.add(await startManager({ dir: tmp.path, fileName: 'mailgate.toml', config: { socketPath, children: [] } }));
      await mgr.restart(mailgateToml(socketPath, dns.server));
      pf = td.add(await startPostfix({ milterSpec: postfixSpec({ kind: 'unix', path: socketPath }) }));
    }),
  );
  afterAll(() => td.run());

  let n = 0;
  const send = (from: string) => {
    const subject = `trust ${from} ${++n}`;
    return { subject, result: sendWithSwaks({ port: pf.port, from, to: 'rcpt@example.org', headers: [`Subject: ${subject}`], body: 'trust test' }) };
  };
  const atSink = (subject: string): Promise<string> =>
    waitFor(
      `message "${subject}" at the smtp-sink`,
      async () => (await pf.sink?.messages())?.find((m) => m.includes(`Subject: ${subject}`)),
      { timeoutMs: 20_000, diagnostics: async () => `--- maillog ---\n${await pf.log()}\n--- manager ---\n${mgr.output()}` },
    );
  const expectAccepted = async (from: string): Promise<void> => {
    const { subject, result } = send(from);
    const r = await result;
    expect(r.exitCode, describeResult(r)).toBe(0);
    expect(await atSink(subject)).toMatch(/^X-Greylist: Sender passed SPF test, ACL \d+ matched, not delayed by Mailgate greylist /m);
  };
  const expectGreylisted = async (from: string): Promise<void> => {
    const r = await send(from).result;
    expect(r.exitCode, describeResult(r)).not.toBe(0);
    expect(r.stdout).toContain(GREYLIST_TEXT);
  };

  test('a domain of the file (written in capitals, with a comment) is trusted: SPF pass, accepted at once', async () => {
    setup.check();
    await expectAccepted('someone@friends.example');
  });

  test('a domain not in the file is greylisted; nor are the built-in defaults trusted (replace_defaults)', async () => {
    setup.check();
    await expectGreylisted('someone@later.example');
    await expectGreylisted('someone@gmail.com');
  });

  test('SIGHUP reads the file again: a domain added to it is trusted', async () => {
    setup.check();
    await writeFile(domainsFile, '# partners\n\nFriends.EXAMPLE   # since 2026\nlater.example\n');
    await mgr.reload();
    await expectAccepted('someone@later.example');
    await expectAccepted('someone@friends.example');
  });

  test('SIGHUP with the file gone: one log line naming it, and the running list is kept', async () => {
    setup.check();
    await rm(domainsFile);
    const before = mgr.records().length;
    process.kill(mgr.daemon().pid, 'SIGHUP');
    const failed = await mgr.waitForRecord('"reload failed"', (r) => typeof r.msg === 'string' && r.msg.startsWith('reload failed'), { afterIndex: before });
    expect(String(failed['err'])).toBe(`${mgr.configFile}:11: trust.domains_file: cannot read ${domainsFile}: no such file`);
    await expectAccepted('someone@later.example');
    // nothing else was logged about it: the failed reload is one line
    const after = mgr.records().slice(before).filter((r) => r.event !== 'session');
    expect(after.map((r) => r.msg)).toStrictEqual([failed.msg]);
  });

  test('at start, a missing file stops the manager with file:line', () => {
    setup.check();
    const r = spawnSync(process.execPath, [MAILGATE_CLI, 'manager', '-c', mgr.configFile], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`mailgate: ${mgr.configFile}:11: trust.domains_file: cannot read ${domainsFile}: no such file\n`);
  });
});
