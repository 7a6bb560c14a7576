// The built-in greylist filter end to end: swaks → a private Postfix → Mailgate's manager (in this
// process: chainFromConfig + MilterServer on a unix socket) → smtp-sink, with the sample
// greylist.conf and the manager's Trust condition on the child. The clock is injected, so the
// 10-minute delay passes without waiting; DNS for SPF is the loopback DNS stub
// (test/interop/harness/dns-stub.ts) through the real resolver, answering gmail.com's TXT with
// `v=spf1 ip4:127.0.0.1 -all`.
//
//   swaks → Postfix (smtpd_milters = our unix socket) → MilterServer → chain → greylist child
//         → smtp-sink
//
// A peer that cannot start makes every test FAIL with the start error (setupGuard), never skip.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chainFromConfig } from '../../src/chain/from-config.js';
import { parseConfig } from '../../src/config/load.js';
import { createDnsResolver } from '../../src/filters/shared/dns.js';
import { silentLogger } from '../../src/mail/logger.js';
import { MilterServer } from '../../src/milter/server.js';
import { startDnsStub, type DnsStub } from './harness/dns-stub.js';
import { startPostfix, type Postfix } from './harness/postfix.js';
import { describeResult, waitFor } from './harness/process.js';
import { setupGuard } from './harness/setup-guard.js';
import { sendWithSwaks } from './harness/swaks.js';
import { Teardown } from './harness/teardown.js';
import { makeTempDir } from './harness/tmpdir.js';

const LIMITS = { timeout: 90_000 };
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const GREYLIST_TEXT = '451 4.7.1 Greylisting in action, please come back in 00:10:00';

const mailgateToml = (dataDir: string): string => `
data_dir = "${dataDir}"

[[milter]]
name = "greylist"
builtin = "greylist"
store = "memory"
applicable_conditions = ["Trust"]
conf_text = """
subnetmatch /24
greylist 10m
autowhite 1w
sm_macro "trusted_domain" "{trusted_domain}" "yes"
racl whitelist sm_macro "trusted_domain" spf pass
racl greylist sm_macro "trusted_domain" not spf pass
racl greylist default
"""
`;

describe('greylist: Postfix → Mailgate manager (in-process) with the sample greylist.conf', LIMITS, () => {
  const td = new Teardown();
  const setup = setupGuard();
  let clock = T0;
  let postfix: Postfix;
  let dns: DnsStub;

  beforeAll(() =>
    setup.run(async () => {
      const tmp = await makeTempDir('greylist');
      td.defer(() => tmp.remove());
      dns = await startDnsStub({ 'gmail.com': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] } });
      td.defer(() => dns.close());
      const { config } = parseConfig(mailgateToml(await tmp.sub('data')), join(tmp.path, 'mailgate.toml'));
      const chain = chainFromConfig(config, silentLogger, { now: () => clock, resolver: createDnsResolver([dns.server], 2000) });
      const server = new MilterServer(chain, { logger: silentLogger, mode: '0660', group: 'postfix' });
      const socket = join(await tmp.sub('run'), 'mailgate.sock');
      await server.listen(`unix:${socket}`);
      td.defer(() => server.close());
      postfix = td.add(await startPostfix({ milterSpec: `unix:${socket}` }));
    }),
  );
  afterAll(() => td.run());

  const send = (from: string, subject: string) =>
    sendWithSwaks({ port: postfix.port, from, to: 'rcpt@example.org', headers: [`Subject: ${subject}`], body: 'greylist test' });

  const atSink = (subject: string): Promise<string> =>
    waitFor(
      `message "${subject}" at the smtp-sink`,
      async () => (await postfix.sink?.messages())?.find((m) => m.includes(`Subject: ${subject}`)),
      { timeoutMs: 20_000, diagnostics: () => postfix.log() },
    );

  test('first attempt is tempfailed with the milter-greylist text', async () => {
    setup.check();
    const r = await send('someone@example.com', 'first attempt');
    expect(r.exitCode, describeResult(r)).not.toBe(0);
    expect(r.stdout).toContain(GREYLIST_TEXT);
    await postfix.waitForLog(/milter-reject: RCPT from .*451 4\.7\.1 Greylisting in action, please come back in 00:10:00/);
  });

  test('a retry before the delay is still tempfailed, with the remaining time', async () => {
    setup.check();
    clock += 4 * 60_000;
    const r = await send('someone@example.com', 'too early');
    expect(r.stdout).toContain('451 4.7.1 Greylisting in action, please come back in 00:06:00');
  });

  test('the retry after the (injected) 10-minute delay is accepted and reaches the sink with X-Greylist', async () => {
    setup.check();
    clock += 6 * 60_000 + 2000;
    const r = await send('someone@example.com', 'after the delay');
    expect(r.exitCode, describeResult(r)).toBe(0);
    const msg = await atSink('after the delay');
    expect(msg).toMatch(/^X-Greylist: Delayed for 00:10:02 by Mailgate greylist \([^)]*\); Thu, 01 Jan 2026 12:10:02 \+0000 \(UTC\)$/m);
  });

  test('a trusted domain (gmail.com) with SPF pass is accepted at once', async () => {
    setup.check();
    const r = await send('friend@gmail.com', 'trusted with spf pass');
    expect(r.exitCode, describeResult(r)).toBe(0);
    const msg = await atSink('trusted with spf pass');
    expect(msg).toMatch(/^X-Greylist: Sender passed SPF test, ACL 5 matched, not delayed by Mailgate greylist /m);
    expect(dns.queries).toContain('gmail.com TXT');
  });

  test('a trusted domain whose SPF does not pass is greylisted', async () => {
    setup.check();
    dns.set('hotmail.com', { TXT: ['v=spf1 ip4:192.0.2.1 -all'] });
    const r = await send('friend@hotmail.com', 'trusted without spf pass');
    expect(r.stdout).toContain(GREYLIST_TEXT);
  });
});
