// A real Postfix on both sides of `mailgate start` (the issue's "a real Postfix relaying into Mailgate and
// receiving from it"):
//
//   swaks → Postfix (relayhost = [127.0.0.1]:<Mailgate MX>) → Mailgate MX → alice's Maildir
//   swaks → Mailgate submission (AUTH) → relay_host [127.0.0.1]:<Postfix> → Postfix
//         (transport_maps: remote.example → smtp:[127.0.0.1]:<sink>) → smtp-sink
//
// One Postfix serves both directions: its relayhost is Mailgate's MX, and a transport map sends the one
// remote domain on to smtp-sink, so that mail from Mailgate does not loop back. Each side's Received
// field must name the other (helo, address) and Postfix's log must say status=sent.
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMta, type Mta } from './harness/mta.js';
import { startPostfix, type Postfix } from './harness/postfix.js';
import { startSmtpSink, type SmtpSink } from './harness/smtp-sink.js';
import { setupGuard } from './harness/setup-guard.js';
import { Teardown } from './harness/teardown.js';
import { describeResult, runCommand, waitFor } from './harness/process.js';
import { queueIdOf } from './harness/swaks.js';
import { swaksRaw as swaks } from './harness/swaks.js';
import { headerFields as fields } from './harness/header-fields.js';

const POSTFIX_HELO = 'mailgate-test.localdomain'; // myhostname in harness/postfix-config.ts
const PASSWORD = 'relay-through-postfix-7';
const RESTRICTIONS = 'check_recipient_access inline:{ {refused.example=REJECT no such domain here} }';
/** later.example answered 450 until a test takes it out. */
const RESTRICTIONS_WITH_LATER = 'check_recipient_access inline:{ {refused.example=REJECT no such domain here}, {later.example=450 4.2.0 come back later} }';



const escapeRe = (s: string): string => s.replace(/[.*+?^$()|[\]{}\\]/g, '\\$&');

describe('a real Postfix relaying into mailgate start and receiving from it, over STARTTLS both ways', { timeout: 90_000 }, () => {
  const td = new Teardown();
  const setup = setupGuard();
  let sink: SmtpSink;
  let mta: Mta;
  let pf: Postfix;

  beforeAll(() =>
    setup.run(async () => {
      sink = td.add(await startSmtpSink());
      // Postfix relays into the MX from 127.0.0.1 as a trusted upstream (in mynetworks, the loopback default),
      // as an MTA in front of Mailgate would be: it passes on mail from local users' addresses, which a
      // client outside mynetworks may not use without logging in.
      mta = await makeMta();
      td.defer(() => mta.remove());
      // A certificate for Postfix's smtpd, so that Mailgate's opportunistic STARTTLS has something to find.
      const cert = join(mta.dir.path, 'postfix-cert.pem');
      const key = join(mta.dir.path, 'postfix-key.pem');
      const ssl = await runCommand('/usr/bin/openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${POSTFIX_HELO}`, '-keyout', key, '-out', cert]);
      if (ssl.exitCode !== 0) throw new Error(`openssl: ${describeResult(ssl)}`);
      pf = td.add(
        await startPostfix({
          milterSpec: '',
          relayPort: mta.mxPort,
          extra: {
            transport_maps: `inline:{ {remote.example=smtp:[127.0.0.1]:${sink.port}}, {later.example=smtp:[127.0.0.1]:${sink.port}} }`,
            smtpd_recipient_restrictions: RESTRICTIONS_WITH_LATER,
            // Small enough for one test to go past it (Mailgate's own limit is larger).
            message_size_limit: '200000',
            // TLS both ways: Postfix offers STARTTLS, and insists on it towards our MX (encrypt: no
            // certificate check, ours is self-signed).
            smtpd_tls_security_level: 'may',
            smtpd_tls_cert_file: cert,
            smtpd_tls_key_file: key,
            smtpd_tls_received_header: 'yes',
            smtp_tls_policy_maps: `inline:{ {[127.0.0.1]:${mta.mxPort}=encrypt} }`,
          },
        }),
      );
      // Postfix's port is known only now: the smarthost goes at the end of Mailgate's config.
      await appendFile(mta.configFile, `[delivery]\nrelay_host = "[127.0.0.1]:${pf.port}"\n`);
      await mta.addUser('alice@localhost', PASSWORD);
      await mta.addUser('carol@localhost', 'carol-password-9');
      await mta.start();
    }),
  );
  afterAll(() => td.run());

  const diagnostics = async (): Promise<string> =>
    `--- maillog ---\n${await pf.log()}\n--- mailgate ---\n${mta.daemon().output().slice(-6000)}`;

  it('Postfix relays into the MX: the message is in the Maildir, our Received names Postfix, Postfix logs status=sent', async () => {
    setup.check();
    const r = await swaks(['--server', `127.0.0.1:${pf.port}`, '--from', 'someone@example.org', '--to', 'alice@localhost', '--header', 'Subject: via postfix']);
    const pfId = queueIdOf(r.stdout);
    expect(pfId, describeResult(r)).toBeDefined();
    const sent = await pf
      .waitForLog(new RegExp(`${pfId}: to=<alice@localhost>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${mta.mxPort},.* status=sent \\(250 2\\.0\\.0 Ok: queued as ([0-9A-Z]+)\\)`))
      .catch(async (e: Error) => {
        throw new Error(`${e.message}\n${await diagnostics()}`);
      });
    const ourId = /queued as ([0-9A-Z]+)\)/.exec(sent)?.[1] ?? '';
    const [msg = ''] = await mta.waitForMaildir('alice@localhost', 1);
    expect(msg).toContain('Subject: via postfix');
    expect(fields(msg).slice(0, 2)).toEqual(['Return-Path: <someone@example.org>', 'Delivered-To: alice@localhost']);
    const received = fields(msg).filter((f) => f.startsWith('Received:'));
    // Ours on top, naming Postfix's helo and address and our queue id (the one Postfix logged);
    // Postfix's below it, naming swaks's helo.
    expect(received[0], msg).toMatch(
      new RegExp(
        `^Received: from ${escapeRe(POSTFIX_HELO)} \\([^)]*\\[127\\.0\\.0\\.1\\]\\) \\(using TLSv1\\.[23] with cipher \\S+ \\(\\d+/\\d+ bits\\)\\) by mx\\.mailgate\\.test \\(Mailgate\\) with ESMTPS id ${ourId}\\b`,
      ),
    );
    expect(received[1], msg).toMatch(new RegExp(`^Received: from client\\.example \\([^)]*\\[127\\.0\\.0\\.1\\]\\) by ${escapeRe(POSTFIX_HELO)} \\(Postfix\\) with E?SMTP id ${pfId}\\b`));
  });

  it('Mailgate relays an authenticated user\'s mail through Postfix to the sink: both Received fields arrive, Postfix logs status=sent', async () => {
    setup.check();
    const r = await swaks([
      '--server', `127.0.0.1:${mta.submissionPort}`, '--tls',
      '--auth', 'PLAIN', '--auth-user', 'alice@localhost', '--auth-password', PASSWORD,
      '--from', 'alice@localhost', '--to', 'bob@remote.example', '--header', 'Subject: out through postfix',
    ]); // prettier-ignore
    const ourId = queueIdOf(r.stdout);
    expect(r.stdout, describeResult(r)).toMatch(/<[-~] {2}250 2\.0\.0 Ok: queued as/);
    const sentLine = await pf
      .waitForLog(new RegExp(`: to=<bob@remote\\.example>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${sink.port},.* status=sent `))
      .catch(async (e: Error) => {
        throw new Error(`${e.message}\n${await diagnostics()}`);
      });
    const pfId = /: ([0-9A-F]+): to=/.exec(sentLine)?.[1] ?? '';
    const dump = await waitFor('the message at the sink', async () => (await sink.messages()).find((m) => m.includes('Subject: out through postfix') && m.endsWith('\n\n')), {
      timeoutMs: 20_000,
      diagnostics,
    });
    const received = fields(dump).filter((f) => f.startsWith('Received:') && !f.includes('(smtp-sink)'));
    // Postfix's, naming our EHLO and address, above ours (the authenticated submission).
    expect(received[0], dump).toMatch(
      new RegExp(`^Received: from mx\\.mailgate\\.test \\([^)]*\\[127\\.0\\.0\\.1\\]\\) \\(using TLSv1\\.[23] with cipher .*\\) \\(No client certificate requested\\) by ${escapeRe(POSTFIX_HELO)} \\(Postfix\\) with ESMTPS id ${pfId}\\b`),
    );
    expect(received[1], dump).toMatch(new RegExp(`^Received: from client\\.example \\([^)]*\\[127\\.0\\.0\\.1\\]\\) \\(using TLSv1\\.[23] with cipher \\S+ \\(\\d+/\\d+ bits\\)\\) by mx\\.mailgate\\.test \\(Mailgate\\) with ESMTPSA id ${ourId}\\b`));
    expect(received).toHaveLength(2);
    // The envelope Postfix got from us is the one swaks gave.
    expect(dump).toMatch(/^X-Mail-Args: <alice@localhost>/m);
    expect(dump).toMatch(/^X-Rcpt-Args: <bob@remote\.example>/m);
    // Nothing left behind in Postfix's queue, nor in ours.
    const pq = await runCommand('/usr/sbin/postqueue', ['-c', pf.configDir, '-p']);
    expect(pq.stdout, describeResult(pq)).toMatch(/Mail queue is empty/);
    const mq = await mta.cli(['queue', 'list']);
    expect(mq.exitCode, describeResult(mq)).toBe(0);
    expect(mq.stdout, describeResult(mq)).not.toContain(ourId ?? '?');
  });

  it('a recipient Mailgate refuses at RCPT (550 5.1.1) makes Postfix bounce, and its bounce comes back into the Maildir', async () => {
    setup.check();
    const r = await swaks(['--server', `127.0.0.1:${pf.port}`, '--from', 'alice@localhost', '--to', 'nobody@localhost', '--header', 'Subject: to nobody']);
    const pfId = queueIdOf(r.stdout);
    expect(pfId, describeResult(r)).toBeDefined();
    await pf
      .waitForLog(new RegExp(`${pfId}: to=<nobody@localhost>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${mta.mxPort},.* status=bounced \\(host [^)]* said: 550 5\\.1\\.1 `))
      .catch(async (e: Error) => {
        throw new Error(`${e.message}\n${await diagnostics()}`);
      });
    // Postfix's DSN, from <> through its relayhost (our MX), to the sender's Maildir.
    const dsn = await waitFor('Postfix\'s bounce in alice\'s Maildir', async () => (await mta.maildir('alice@localhost')).find((m) => m.includes(`X-Postfix-Queue-ID: ${pfId}`)), {
      timeoutMs: 20_000,
      diagnostics,
    });
    expect(dsn).toMatch(/^Content-Type: multipart\/report; report-type=delivery-status;/m);
    expect(dsn).toMatch(/^Final-Recipient: rfc822; nobody@localhost$/m);
    expect(dsn).toMatch(/^Diagnostic-Code: smtp; 550 5\.1\.1 /m);
    // Below the delivery fields: Return-Path <> (a bounce) and Delivered-To.
    expect(fields(dsn).slice(0, 2)).toEqual(['Return-Path: <>', 'Delivered-To: alice@localhost']);
    expect(fields(dsn)[2]).toMatch(new RegExp(`^Received: from ${escapeRe(POSTFIX_HELO)} \\([^)]*\\[127\\.0\\.0\\.1\\]\\) \\(using TLS.*\\) by mx\\.mailgate\\.test \\(Mailgate\\) with ESMTPS `));
  });

  it('a recipient Postfix refuses at RCPT makes Mailgate bounce to the local sender (RFC 3464), nothing reaches the sink', async () => {
    setup.check();
    const r = await swaks([
      '--server', `127.0.0.1:${mta.submissionPort}`, '--tls',
      '--auth', 'PLAIN', '--auth-user', 'alice@localhost', '--auth-password', PASSWORD,
      '--from', 'alice@localhost', '--to', 'bob@refused.example', '--header', 'Subject: refused by postfix',
    ]); // prettier-ignore
    const ourId = queueIdOf(r.stdout);
    expect(r.stdout, describeResult(r)).toMatch(/<[-~] {2}250 2\.0\.0 Ok: queued as/);
    await pf.waitForLog(/NOQUEUE: reject: RCPT from [^:]*: 554 5\.7\.1 <bob@refused\.example>: Recipient address rejected: no such domain here/);
    const dsn = await waitFor('our bounce in alice\'s Maildir', async () => (await mta.maildir('alice@localhost')).find((m) => /^Final-Recipient: rfc822; ?bob@refused\.example/m.test(m)), {
      timeoutMs: 30_000,
      diagnostics,
    });
    expect(dsn, dsn).toMatch(/^Content-Type: multipart\/report;[\s\S]*report-type="?delivery-status/m);
    expect(dsn, dsn).toMatch(/^Action: failed$/m);
    expect(dsn, dsn).toMatch(/^Status: 5\.7\.1$/m);
    expect(dsn, dsn).toMatch(/^Diagnostic-Code: smtp; ?554 5\.7\.1 <bob@refused\.example>: Recipient address rejected: no such domain here/m);
    expect(dsn, dsn).toContain('Subject: refused by postfix');
    expect(ourId).toBeDefined();
    expect((await sink.messages()).some((m) => m.includes('Subject: refused by postfix'))).toBe(false);
  });

  it('Postfix delivers an 8-bit message to two local users and a missing one in one transaction: bytes intact, the missing one bounced', async () => {
    setup.check();
    const text = 'Grüße aus Köln — 日本語のテキスト';
    const r = await swaks([
      '--server', `127.0.0.1:${pf.port}`, '--from', 'alice@localhost', '--to', 'alice@localhost,carol@localhost,ghost@localhost',
      '--header', 'Subject: eight bit', '--header', 'Content-Type: text/plain; charset=UTF-8', '--header', 'Content-Transfer-Encoding: 8bit',
      '--body', text,
    ]); // prettier-ignore
    const pfId = queueIdOf(r.stdout);
    expect(pfId, describeResult(r)).toBeDefined();
    await pf.waitForLog(new RegExp(`${pfId}: to=<carol@localhost>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${mta.mxPort},.* status=sent `));
    await pf.waitForLog(new RegExp(`${pfId}: to=<ghost@localhost>, .* status=bounced \\(host [^)]* said: 550 5\\.1\\.1 `));
    const bytes = Buffer.from(text, 'utf8');
    for (const user of ['alice@localhost', 'carol@localhost']) {
      const msg = await waitFor(`the 8-bit message for ${user}`, async () => (await mta.maildir(user)).find((m) => m.includes('Subject: eight bit')), {
        timeoutMs: 20_000,
        diagnostics,
      });
      expect(Buffer.from(msg, 'latin1').includes(bytes), msg).toBe(true);
    }
  });

  it('a message over Postfix\'s message_size_limit (its EHLO SIZE): Mailgate does not send it and bounces it (5.3.4), as Postfix\'s smtp client does', async () => {
    setup.check();
    const bodyFile = join(mta.dir.path, 'big-body.txt');
    await writeFile(bodyFile, Array.from({ length: 4_000 }, (_, i) => `line ${i} ${'x'.repeat(70)}`).join('\n'));
    const r = await swaks([
      '--server', `127.0.0.1:${mta.submissionPort}`, '--tls',
      '--auth', 'PLAIN', '--auth-user', 'alice@localhost', '--auth-password', PASSWORD,
      '--from', 'alice@localhost', '--to', 'bob@remote.example', '--header', 'Subject: too big for postfix', '--body', `@${bodyFile}`,
    ]); // prettier-ignore
    expect(r.stdout, describeResult(r).slice(0, 3000)).toMatch(/<[-~] {2}250 2\.0\.0 Ok: queued as/);
    const dsn = await waitFor(
      'our size bounce in alice\'s Maildir',
      async () => (await mta.maildir('alice@localhost')).find((m) => /^Final-Recipient: rfc822; ?bob@remote\.example/m.test(m) && /^Status: 5\.3\.4$/m.test(m)),
      { timeoutMs: 30_000, diagnostics },
    );
    expect(dsn, dsn.slice(0, 4000)).toMatch(/^Diagnostic-Code: X-Mailgate; message size \d+ exceeds size limit of server 127\.0\.0\.1\[127\.0\.0\.1\]$/m);
    expect((await sink.messages()).some((m) => m.includes('Subject: too big for postfix'))).toBe(false);
  });

  it('Postfix answers 450: Mailgate defers and keeps the message; once Postfix takes it, `mailgate queue flush` delivers it', async () => {
    setup.check();
    const r = await swaks([
      '--server', `127.0.0.1:${mta.submissionPort}`, '--tls',
      '--auth', 'PLAIN', '--auth-user', 'alice@localhost', '--auth-password', PASSWORD,
      '--from', 'alice@localhost', '--to', 'bob@later.example', '--header', 'Subject: come back later',
    ]); // prettier-ignore
    const ourId = queueIdOf(r.stdout) ?? '?';
    expect(r.stdout, describeResult(r)).toMatch(/<[-~] {2}250 2\.0\.0 Ok: queued as/);
    await pf.waitForLog(/NOQUEUE: reject: RCPT from [^:]*: 450 4\.2\.0 <bob@later\.example>: Recipient address rejected: come back later/);
    const listed = await waitFor(
      'the deferred message in mailgate queue list, with Postfix\'s reply',
      async () => {
        const q = await mta.cli(['queue', 'list']);
        return q.stdout.includes(ourId) && q.stdout.includes('come back later') ? q.stdout : undefined;
      },
      { timeoutMs: 20_000, diagnostics },
    );
    expect(listed).toContain('bob@later.example');
    expect((await mta.maildir('alice@localhost')).some((m) => m.includes('Subject: come back later'))).toBe(false); // no bounce
    // Postfix now takes later.example.
    const pc = await runCommand('/usr/sbin/postconf', ['-c', pf.configDir, '-e', `smtpd_recipient_restrictions = ${RESTRICTIONS}`]);
    expect(pc.exitCode, describeResult(pc)).toBe(0);
    const reload = await runCommand('/usr/sbin/postfix', ['-c', pf.configDir, 'reload']);
    expect(reload.exitCode, describeResult(reload)).toBe(0);
    const flush = await mta.cli(['queue', 'flush']);
    expect(flush.exitCode, describeResult(flush)).toBe(0);
    await waitFor('the message at the sink after the flush', async () => (await sink.messages()).find((m) => m.includes('Subject: come back later') && m.endsWith('\n\n')), {
      timeoutMs: 30_000,
      diagnostics,
    });
    await pf.waitForLog(/: to=<bob@later\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+,.* status=sent /);
  });
});
