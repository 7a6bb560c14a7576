// The "done when", through the built CLI and real clients: `mailgate start`, `mailgate user add`,
// one swaks command → the message is in alice's Maildir; an authenticated user's mail for a remote domain
// reaches the remote sink (smtp-sink through relay_host); relay attempts without AUTH are refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMta, type Mta } from '../interop/harness/mta.js';
import { startSmtpSink, type SmtpSink } from '../interop/harness/smtp-sink.js';
import { swaksRaw as swaks } from '../interop/harness/swaks.js';


describe('mailgate start: receive, deliver locally, relay for authenticated users', () => {
  let sink: SmtpSink;
  let mta: Mta;
  beforeAll(async () => {
    sink = await startSmtpSink();
    mta = await makeMta({ mynetworks: [], extra: `[delivery]\nrelay_host = "[127.0.0.1]:${sink.port}"\n` });
    await mta.addUser('alice@localhost', 'wonderland-42');
    await mta.start();
  }, 60_000);
  afterAll(async () => {
    await mta?.remove();
    await sink?.stop();
  });

  it('puts a message sent with swaks in the local user\'s Maildir, with our Received field', async () => {
    const r = await swaks(['--server', `127.0.0.1:${mta.mxPort}`, '--from', 'someone@example.org', '--to', 'alice@localhost', '--header', 'Subject: first mail']);
    expect(r.stdout).toMatch(/<- {2}250 2\.0\.0 Ok: queued as [0-9A-Z]{10,}/);
    const id = /queued as ([0-9A-Z]+)/.exec(r.stdout)?.[1];
    const [msg] = await mta.waitForMaildir('alice@localhost', 1);
    expect(msg).toContain('Subject: first mail');
    expect(msg).toMatch(new RegExp(`^Received: from client\\.example \\([^)]*\\[127\\.0\\.0\\.1\\]\\)\\s+by mx\\.mailgate\\.test \\(Mailgate\\) with ESMTP id ${id}`, 'm'));
  });

  it('refuses an unknown local user at RCPT with 550 5.1.1', async () => {
    const r = await swaks(['--server', `127.0.0.1:${mta.mxPort}`, '--from', 'someone@example.org', '--to', 'nobody@localhost']);
    expect(r.stdout).toMatch(/<\*\* 550 5\.1\.1 /);
  });

  it('relays an authenticated user\'s mail for a remote domain to the smarthost over STARTTLS', async () => {
    const r = await swaks([
      '--server', `127.0.0.1:${mta.submissionPort}`, '--tls',
      '--auth', 'PLAIN', '--auth-user', 'alice@localhost', '--auth-password', 'wonderland-42',
      '--from', 'alice@localhost', '--to', 'bob@remote.example', '--header', 'Subject: outbound',
    ]);
    expect(r.stdout).toMatch(/<[-~] {2}235 /);
    expect(r.stdout).toMatch(/<[-~] {2}250 2\.0\.0 Ok: queued as/);
    const dumps = await sink.waitForMessages(1);
    expect(dumps.join('\n')).toContain('Subject: outbound');
  });

  it('relays over implicit TLS submission too', async () => {
    const r = await swaks([
      '--server', `127.0.0.1:${mta.tlsPort}`, '--tls-on-connect',
      '--auth', 'LOGIN', '--auth-user', 'alice@localhost', '--auth-password', 'wonderland-42',
      '--from', 'alice@localhost', '--to', 'carol@remote.example', '--header', 'Subject: implicit tls',
    ]);
    expect(r.stdout).toMatch(/<[-~] {2}250 2\.0\.0 Ok: queued as/);
    await sink.waitForMessages(2);
  });

  it('refuses a wrong password with 535 and no relay follows', async () => {
    const r = await swaks([
      '--server', `127.0.0.1:${mta.submissionPort}`, '--tls',
      '--auth', 'PLAIN', '--auth-user', 'alice@localhost', '--auth-password', 'wrong',
      '--from', 'alice@localhost', '--to', 'bob@remote.example',
    ]);
    expect(r.stdout).toMatch(/<[*~]\* 535 5\.7\.8 /);
  });

  it('refuses a sender address the authenticated user does not own', async () => {
    const r = await swaks([
      '--server', `127.0.0.1:${mta.submissionPort}`, '--tls',
      '--auth', 'PLAIN', '--auth-user', 'alice@localhost', '--auth-password', 'wonderland-42',
      '--from', 'ceo@localhost', '--to', 'bob@remote.example',
    ]);
    expect(r.stdout).toMatch(/<[*~]\* 553 5\.7\.1 /);
  });

  const tricks = [
    'bob@remote.example',
    'BOB@Remote.Example',
    'bob@remote.example.',
    'bob%remote.example@localhost',
    'remote.example!bob@localhost',
    '@localhost:bob@remote.example',
    '"bob@remote.example"@localhost',
    '"bob%remote.example"@localhost',
    'bob@[192.0.2.1]',
    'bob@[127.0.0.1]',
    'bob\\@remote.example@localhost',
  ];
  for (const rcpt of tricks) {
    it(`refuses relay without AUTH from a client outside mynetworks: <${rcpt}>`, async () => {
      const r = await swaks(['--server', `127.0.0.1:${mta.mxPort}`, '--from', 'spammer@example.org', '--to', rcpt, '--quit-after', 'RCPT']);
      expect(r.stdout).toMatch(/<\*\* 5\d\d 5\.\d\.\d+ /);
      expect(r.stdout).not.toMatch(/<- {2}250 2\.1\.5/);
    });
  }
});
