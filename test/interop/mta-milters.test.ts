// The existing real milters as children of `mailgate start`'s own chain (no Postfix in between): the MTA
// speaks milter to them itself, applies their header edits with the message editor below its Received
// field, and turns their refusals into SMTP replies.
//
//   swaks → mailgate start (MX or submission) → rules (built-in: X-Rule from X-Mailer)
//                                             → spamass-milter -r 15 → spamc → spamd
//                                             → clamav-milter → clamd (EICAR .ndb)
//                                             → opendkim (Mode sv, MTA ORIGINATING)
//           → the local user's Maildir
//
// opendkim signs what arrives on the submission listener, where the MTA sends Postfix's
// {daemon_name} ORIGINATING (src/smtp/session.ts), and verifies everything else: loopback is not in its
// InternalHosts, so mail on the MX is verified, against its own key (TestPublicKeys, no DNS).
//
// One set of peers and one MTA serve the file; a peer that cannot start makes every test FAIL
// (setupGuard), never skip.
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMta, type Mta } from './harness/mta.js';
import { libmilterSpec, unixEndpoint } from './harness/endpoint.js';
import { startOpenDkim, txtRecordText, DKIM_DOMAIN, DKIM_SELECTOR, type OpenDkim } from './harness/opendkim.js';
import { startSpamd, GTUBE, type Spamd } from './harness/spamd.js';
import { startSpamassMilter, SPAMASS_REJECT_TEXT, type SpamassMilter } from './harness/spamass-milter.js';
import { startClamd, EICAR, EICAR_VIRUS_NAME, type Clamd } from './harness/clamd.js';
import { startClamavMilter, type ClamavMilter } from './harness/clamav-milter.js';
import { setupGuard } from './harness/setup-guard.js';
import { Teardown } from './harness/teardown.js';
import { makeTempDir } from './harness/tmpdir.js';
import { describeResult, runCommand, waitFor } from './harness/process.js';
import { swaksRaw } from './harness/swaks.js';
import { headerFields as fields } from './harness/header-fields.js';

const swaks = (args: readonly string[]) => swaksRaw(args, 60);

const USER = `alice@${DKIM_DOMAIN}`;
const PASSWORD = 'milters-all-the-way-3';
/** Loopback must not count as internal to opendkim: a documentation address instead. */
const NOT_LOOPBACK = '192.0.2.250';
/** A phrase our spamd scores 8: spam (>= 5) but below spamass-milter's -r 15, so it is rewritten, not refused. */
const SPAMMY = 'MAILGATE-SPAMMY-PHRASE';



/** One SMTP session, step by step (a command, or a whole message ending "\r\n."): every reply, greeting first. */
async function smtpSteps(port: number, steps: readonly string[], timeoutMs = 60_000): Promise<string[]> {
  const sock = connect({ host: '127.0.0.1', port });
  sock.setEncoding('latin1');
  let buf = '';
  let ended = false;
  let wake: () => void = () => undefined;
  sock.on('data', (d: string) => {
    buf += d;
    wake();
  });
  sock.on('error', () => undefined);
  sock.on('close', () => {
    ended = true;
    wake();
  });
  const deadline = Date.now() + timeoutMs;
  const reply = async (): Promise<string> => {
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\n/.exec(buf);
      if (m) {
        buf = buf.slice(m[0].length);
        return m[0].trimEnd();
      }
      if (ended || Date.now() > deadline) throw new Error(`no SMTP reply (${ended ? 'closed' : 'timeout'}); pending ${JSON.stringify(buf)}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
  };
  try {
    const out = [await reply()];
    for (const step of steps) {
      sock.write(`${step}\r\n`);
      out.push(await reply());
    }
    return out;
  } finally {
    sock.destroy();
  }
}

const rfc822 = (subject: string, body: string): string =>
  [`From: <someone@example.org>`, `To: <${USER}>`, `Subject: ${subject}`, `Message-ID: <${subject}@example.org>`, '', body, '.'].join('\r\n');

/** Return-Path and Delivered-To, which local delivery puts on top (as Postfix's virtual(8) does). */
const DELIVERY_FIELDS = /^Return-Path: <[^>\n]*>\r?\nDelivered-To: [^\n]*\r?\n/;

/** The header fields below the delivery fields: what the MTA queued. */
function queued(message: string): string[] {
  expect(message, message).toMatch(DELIVERY_FIELDS);
  return fields(message.replace(DELIVERY_FIELDS, ''));
}

const indexOfField = (fs: readonly string[], name: string): number => fs.findIndex((f) => f.toLowerCase().startsWith(`${name.toLowerCase()}:`));

describe('mailgate start with opendkim, spamass-milter, clamav-milter and a built-in filter as its chain', { timeout: 120_000 }, () => {
  const td = new Teardown();
  const setup = setupGuard();
  let mta: Mta;
  let spamd: Spamd;
  let clamd: Clamd;
  let dkim: OpenDkim;
  let spamass: SpamassMilter;
  let clamav: ClamavMilter;
  let signedFile = '';
  let tmpPath = '';

  beforeAll(
    () =>
      setup.run(async () => {
        const tmp = await makeTempDir('mta-milters');
        td.defer(() => tmp.remove());
        tmpPath = tmp.path;
        signedFile = join(tmp.path, 'signed.eml');
        const spec = (name: string): string => libmilterSpec(unixEndpoint(tmp.path, `${name}.sock`));
        const started = await Promise.allSettled([
          (async () => (spamd = td.add(await startSpamd({ localCf: [`body MAILGATE_SPAMMY /${SPAMMY}/`, 'score MAILGATE_SPAMMY 8.0'] }))))(),
          (async () => (clamd = td.add(await startClamd())))(),
          (async () =>
            (dkim = td.add(await startOpenDkim({ spec: spec('dkim'), verify: true, extraConf: ['MTA ORIGINATING', `InternalHosts ${NOT_LOOPBACK}`] }))))(),
        ]);
        for (const s of started) if (s.status === 'rejected') throw s.reason;
        const filters = await Promise.allSettled([
          (async () => (spamass = td.add(await startSpamassMilter({ spamd, spec: spec('spamass'), rejectScore: 15 }))))(),
          (async () => (clamav = td.add(await startClamavMilter({ clamd, spec: spec('clamav'), onInfected: 'Reject' }))))(),
        ]);
        for (const s of filters) if (s.status === 'rejected') throw s.reason;
        mta = await makeMta({
          mynetworks: [],
          localDomains: ['localhost', DKIM_DOMAIN],
          extra: `
[[milter]]
name = "rules"
builtin = "rules"

[[milter.rule]]
field = "header"
header = "X-Mailer"
pattern = '^(\\S+)'
action = "add_header"
header_name = "X-Rule"
header_value = "mailer $1"

[[milter]]
name = "spamass"
connection_spec = "${spec('spamass')}"

[[milter]]
name = "clamav"
connection_spec = "${spec('clamav')}"

[[milter]]
name = "dkim"
connection_spec = "${spec('dkim')}"
`,
        });
        td.defer(() => mta.remove());
        await mta.addUser(USER, PASSWORD);
        await mta.start();
      }),
    120_000,
  );
  afterAll(() => td.run());

  const diagnostics = async (): Promise<string> =>
    [
      `--- mailgate ---\n${mta?.daemon().output().slice(-6000)}`,
      `--- opendkim ---\n${dkim?.daemon.output()}`,
      `--- spamass-milter ---\n${spamass?.daemon.output()}`,
      `--- clamav-milter ---\n${await clamav?.log()}`,
    ].join('\n');

  /** The Maildir files whose Subject is one of `subjects`, once all are there. */
  const waitForSubjects = (subjects: readonly string[]): Promise<string[]> =>
    waitFor(`${subjects.join(', ')} in the Maildir`, async () => {
      const all = await mta.maildir(USER);
      const found = subjects.map((s) => all.find((m) => new RegExp(`^Subject: ${s}\r?$`, 'm').test(m)));
      return found.every((m) => m !== undefined) ? (found as string[]) : undefined;
    }, { timeoutMs: 30_000 });

  const withDiagnostics = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await diagnostics()}`);
    }
  };

  it('on submission: signed by opendkim ({daemon_name} ORIGINATING), marked by SpamAssassin and ClamAV, X-Rule added; every edit below our Received', async () => {
    setup.check();
    const r = await swaks([
      '--server', `127.0.0.1:${mta.submissionPort}`, '--tls',
      '--auth', 'PLAIN', '--auth-user', USER, '--auth-password', PASSWORD,
      '--from', USER, '--to', USER, '--header', 'Subject: signed on submission',
    ]); // prettier-ignore
    expect(r.stdout, describeResult(r)).toMatch(/<[-~] {2}250 2\.0\.0 Ok: queued as/);
    const [msg = ''] = await withDiagnostics(mta.waitForMaildir(USER, 1));
    await writeFile(signedFile, msg.replace(DELIVERY_FIELDS, ''));
    expect(msg).toMatch(new RegExp(`^Return-Path: <${USER}>\nDelivered-To: ${USER}\n`));
    const fs = queued(msg);
    // opendkim inserts its field at index 0 (smfi_insheader): above our Received, where Postfix puts it
    // too (checked against the private Postfix of harness/postfix.ts: DKIM-Signature, then Postfix's
    // Received). Appended fields (smfi_addheader, the built-in rule) land below our Received.
    expect(fs[0], msg).toMatch(new RegExp(`^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=${DKIM_DOMAIN.replace('.', '\\.')}; s=`));
    expect(fs[1], msg).toMatch(/^Received: from client\.example .* by mx\.mailgate\.test \(Mailgate\) with ESMTPSA id /);
    expect(fs.filter((f) => /^DKIM-Signature:/i.test(f)), msg).toHaveLength(1);
    expect(msg).toMatch(/^X-Rule: mailer swaks$/m);
    expect(msg).toMatch(/^X-Spam-Status: No, /m);
    expect(msg).toMatch(/^X-Virus-Status: Clean$/m);
    for (const name of ['X-Rule', 'X-Spam-Status', 'X-Virus-Status']) {
      expect(indexOfField(fs, name), `${name} below Received:\n${msg}`).toBeGreaterThan(1);
    }
  });

  it('on the MX: opendkim verifies that signature (Authentication-Results dkim=pass) and signs nothing', async () => {
    setup.check();
    // From outside: an unauthenticated client may not use a local user's address as its envelope sender
    // (reject_unauthenticated_sender_login_mismatch); the signature covers the header, not the envelope.
    const r = await swaks(['--server', `127.0.0.1:${mta.mxPort}`, '--from', 'someone@example.org', '--to', USER, '--data', `@${signedFile}`]);
    expect(r.stdout, describeResult(r)).toMatch(/<- {2}250 2\.0\.0 Ok: queued as/);
    const all = await withDiagnostics(mta.waitForMaildir(USER, 2));
    const msg = all.find((m) => fields(m).filter((f) => f.startsWith('Received:')).length === 2) ?? '';
    const fs = queued(msg);
    // opendkim inserts Authentication-Results at index 0 too: above our Received for this hop.
    expect(fs[0], msg).toMatch(new RegExp(`^Authentication-Results: mx\\.mailgate\\.test; dkim=pass \\(2048-bit key\\) header\\.d=${DKIM_DOMAIN.replace('.', '\\.')} `));
    expect(fs[1], msg).toMatch(/^Received: from client\.example \([^ )]+ \[127\.0\.0\.1\]\) by mx\.mailgate\.test \(Mailgate\) with ESMTP id /);
    expect(fs.filter((f) => /^DKIM-Signature:/i.test(f)), msg).toHaveLength(1);
  });

  it('GTUBE on the MX is refused at end of message with spamass-milter\'s reply; nothing is delivered', async () => {
    setup.check();
    const before = (await mta.maildir(USER)).length;
    const r = await swaks(['--server', `127.0.0.1:${mta.mxPort}`, '--from', 'someone@example.org', '--to', USER, '--header', 'Subject: gtube', '--body', `spam follows\n${GTUBE}\n`]);
    expect(r.stdout, describeResult(r)).toMatch(new RegExp(`^<\\*\\*\\s+550 5\\.7\\.1 ${SPAMASS_REJECT_TEXT}`, 'm'));
    expect(r.stdout).not.toMatch(/queued as/);
    expect((await mta.maildir(USER)).length).toBe(before);
  });

  it('EICAR on the MX is refused at end of message with clamav-milter\'s reply; nothing is delivered', async () => {
    setup.check();
    const before = (await mta.maildir(USER)).length;
    const r = await swaks(['--server', `127.0.0.1:${mta.mxPort}`, '--from', 'someone@example.org', '--to', USER, '--header', 'Subject: eicar', '--body', `virus follows\n${EICAR}\n`]);
    const virus = EICAR_VIRUS_NAME.replace(/\./g, '\\.');
    expect(r.stdout, describeResult(r)).toMatch(new RegExp(`^<\\*\\*\\s+5\\d\\d 5\\.7\\.1 Virus found: ${virus}`, 'm'));
    expect(r.stdout).not.toMatch(/queued as/);
    expect((await mta.maildir(USER)).length).toBe(before);
  });

  it('GTUBE, ham, EICAR, ham in ONE SMTP session: each message judged on its own, the hams delivered', async () => {
    setup.check();
    const envelope = ['MAIL FROM:<someone@example.org>', `RCPT TO:<${USER}>`, 'DATA'];
    const replies = await smtpSteps(mta.mxPort, [
      'EHLO client.example',
      ...envelope,
      rfc822('multi-gtube', `spam follows\r\n${GTUBE}`),
      ...envelope,
      rfc822('multi-ham-1', 'first ordinary message'),
      ...envelope,
      rfc822('multi-eicar', `virus follows\r\n${EICAR}`),
      ...envelope,
      rfc822('multi-ham-2', 'second ordinary message'),
      'QUIT',
    ]);
    const transcript = replies.join('\n');
    // Greeting, EHLO, then MAIL/RCPT/DATA/dot four times: the dots' replies are at 5, 9, 13, 17.
    expect(replies[5], transcript).toMatch(new RegExp(`^550 5\\.7\\.1 ${SPAMASS_REJECT_TEXT}`));
    expect(replies[9], transcript).toMatch(/^250 2\.0\.0 Ok: queued as/);
    expect(replies[13], transcript).toMatch(/^5\d\d 5\.7\.1 Virus found/);
    expect(replies[17], transcript).toMatch(/^250 2\.0\.0 Ok: queued as/);
    const delivered = await withDiagnostics(
      waitForSubjects(['multi-ham-1', 'multi-ham-2']),
    );
    for (const msg of delivered) {
      expect(msg).toMatch(/^X-Spam-Status: No, /m);
      expect(msg).toMatch(/^X-Virus-Status: Clean$/m);
    }
    expect((await mta.maildir(USER)).some((m) => /Subject: multi-(gtube|eicar)/.test(m))).toBe(false);
  });

  it('spamass-milter rewrites a spammy message (8 points, below -r 15): the new body and headers are what the Maildir holds', async () => {
    setup.check();
    const r = await swaks(['--server', `127.0.0.1:${mta.mxPort}`, '--from', 'someone@example.org', '--to', USER, '--header', 'Subject: spammy', '--body', `Buy now\n${SPAMMY}\n`]);
    expect(r.stdout, describeResult(r)).toMatch(/<- {2}250 2\.0\.0 Ok: queued as/);
    const [msg = ''] = await withDiagnostics(waitForSubjects(['spammy']));
    expect(msg).toMatch(/^X-Spam-Flag: YES$/m);
    expect(msg).toMatch(/^X-Spam-Status: Yes, score=\d+\.\d+ required=5\.0 tests=.*MAILGATE_SPAMMY/m);
    // report_safe: the body became SpamAssassin's report with the original attached.
    expect(msg).toMatch(/^Content-Type: multipart\/mixed; boundary=/m);
    expect(msg).toContain('Spam detection software');
    expect(msg).toContain(SPAMMY);
    expect(queued(msg)[0], msg).toMatch(/^Received: from client\.example .* by mx\.mailgate\.test \(Mailgate\) with ESMTP id /);
    expect(msg).toMatch(/^X-Virus-Status: Clean$/m);
  });

  it('a spammy submission: rewritten by spamass-milter, then signed by opendkim; the Maildir copy verifies (opendkim -t)', async () => {
    setup.check();
    const r = await swaks([
      '--server', `127.0.0.1:${mta.submissionPort}`, '--tls',
      '--auth', 'PLAIN', '--auth-user', USER, '--auth-password', PASSWORD,
      '--from', USER, '--to', USER, '--header', 'Subject: spammy-signed', '--body', `Buy now\n${SPAMMY}\n`,
    ]); // prettier-ignore
    expect(r.stdout, describeResult(r)).toMatch(/<[-~] {2}250 2\.0\.0 Ok: queued as/);
    const [signed = ''] = await withDiagnostics(waitForSubjects(['spammy-signed']));
    expect(signed).toMatch(/^X-Spam-Flag: YES$/m);
    expect(signed).toContain('Spam detection software');
    expect(queued(signed)[0], signed).toMatch(/^DKIM-Signature: /);
    // Verified offline by opendkim's test mode (-t) with the signer's public key: not through the MX,
    // whose chain would rewrite the still-spammy body again before its opendkim sees it.
    const file = join(tmpPath, 'spammy-signed.eml');
    await writeFile(file, signed.replace(DELIVERY_FIELDS, ''));
    const keys = join(tmpPath, 'keys');
    await writeFile(keys, `${DKIM_SELECTOR}._domainkey.${DKIM_DOMAIN} ${txtRecordText(dkim.publicKeyRecord)}\n`);
    const conf = join(tmpPath, 'verify.conf');
    await writeFile(conf, ['Mode v', `TestPublicKeys ${keys}`, 'Syslog no', 'Background no', ''].join('\n'));
    const t = await runCommand('/usr/sbin/opendkim', ['-x', conf, '-vvv', '-t', file], { timeoutMs: 30_000 });
    expect(`${t.stdout}${t.stderr}`, describeResult(t)).toMatch(/: verification \(s=test, d=example\.com, 2048-bit key\) succeeded$/m);
    // The control: one byte of the body changed, the same check fails.
    await writeFile(file, signed.replace(DELIVERY_FIELDS, '').replace('Spam detection software', 'Spam detection Software'));
    const tampered = await runCommand('/usr/sbin/opendkim', ['-x', conf, '-vvv', '-t', file], { timeoutMs: 30_000 });
    expect(`${tampered.stdout}${tampered.stderr}`, describeResult(tampered)).toMatch(/: verification \(.*\) failed: signature verification failed$/m);
  });

  // Last: it stops the shared clamd.
  it('clamd down: clamav-milter defers (OnFail Defer), the client gets a 4xx at end of message and nothing is delivered', async () => {
    setup.check();
    await clamd.daemon.stop();
    const before = (await mta.maildir(USER)).length;
    const r = await swaks(['--server', `127.0.0.1:${mta.mxPort}`, '--from', 'someone@example.org', '--to', USER, '--header', 'Subject: clamd down']);
    // Postfix's reply for a milter tempfail (src/smtp/replies.ts MILTER_TEMPFAIL).
    expect(r.stdout, describeResult(r)).toMatch(/^<\*\*\s+451 4\.7\.1 Service unavailable - try again later/m);
    expect(r.stdout).not.toMatch(/queued as/);
    expect((await mta.maildir(USER)).length).toBe(before);
    const q = await mta.cli(['queue', 'list']);
    expect(q.stdout, describeResult(q)).not.toMatch(/someone@example\.org/);
  });
});
