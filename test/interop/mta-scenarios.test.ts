// The differential tests: every scenario file in test/smtp/scenarios/ is played against
// `mailgate start` and against a private Postfix smtpd set up as the files' "needs" say (no trusted
// client, local.example local, recipient_limit 3, STARTTLS offered), and their replies must agree by
// class and enhanced status code, except for the deliberate differences pinned in DELIBERATE below.
// Afterwards nothing is left half-written: the queue is empty and the mailbox holds exactly the
// messages that got their final 250 (a client that vanished mid-DATA left nothing behind).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RawClient } from '../smtp/raw-client.js';
import { makeMta, type Mta } from './harness/mta.js';
import type { Postfix } from './harness/postfix.js';
import { postfixTarget, SCENARIO_POSTFIX_VARS, startScenarioPostfix } from './harness/scenario-postfix.js';
import { setupGuard } from './harness/setup-guard.js';
import { compareScenario, describeComparison, loadScenarios, type Comparison, type ScenarioTarget } from './harness/smtp-scenario.js';
import { Teardown } from './harness/teardown.js';
import { waitFor } from './harness/process.js';

const LIMITS = { timeout: 60_000 };
const LOCAL_USER = SCENARIO_POSTFIX_VARS['local_user']!;

/**
 * Where Mailgate answers differently from Postfix on purpose, one entry per difference line that
 * compareScenario reports ("step N (...) reply K: mailgate ... | postfix ..."), with why.
 */
const DELIBERATE: Readonly<Record<string, readonly { readonly line: RegExp; readonly why: string }[]>> = {
  'bare-cr': [
    {
      line: /^step 3 .* reply 1: mailgate 500 5\.5\.2 .* \| postfix 250 2\.0\.0 /,
      why: 'Mailgate is stricter: a bare CR is no white space in a command (RFC 5321 §2.3.8), so "NOOP<CR>NOOP" is an unknown command; Postfix reads the CR as a separator.',
    },
  ],
  'long-command-line': [
    {
      line: /^step 4 .* reply 1: mailgate 421 4\.4\.2 .* \| postfix 250 2\.0\.0 /,
      why: 'Mailgate is stricter: a command line past 16 KiB (smtp-server\'s limit; RFC 5321 allows 512 octets) ends the session with 421, where Postfix drops what is past line_length_limit and goes on.',
    },
    {
      line: /^step 5 .* reply 1: mailgate \(none\) \| postfix 221 2\.0\.0 /,
      why: 'So Mailgate has closed the connection before the QUIT.',
    },
  ],
  'too-many-recipients': [
    {
      line: /^step 7 .* reply 1: mailgate 250 2\.1\.5 .* \| postfix 452 4\.5\.3 /,
      why: 'The scenario repeats one recipient: Mailgate (smtp-server) keeps one entry per address and a repeat replaces it, so the limit counts distinct recipients; Postfix counts RCPT commands. The message still goes once to the one recipient on both.',
    },
  ],
};

describe('differential: scenario files against mailgate start and Postfix', LIMITS, () => {
  const td = new Teardown();
  const setup = setupGuard();
  let postfix: Postfix;
  let mta: Mta;
  let pf: ScenarioTarget;
  let mg: ScenarioTarget;
  /** Messages each server confirmed with a 250 after the data. */
  const accepted = { mailgate: 0, postfix: 0 };
  beforeAll(() =>
    setup.run(async () => {
      postfix = td.add(await startScenarioPostfix());
      mta = await makeMta({ mynetworks: [], localDomains: ['local.example'], smtp: 'recipient_limit = 3\nidle_timeout = 3\nmessage_size_limit = 10000' });
      td.defer(() => mta.remove());
      for (const [name, address] of Object.entries(SCENARIO_POSTFIX_VARS)) if (name.startsWith('local_user')) await mta.addUser(address, 'scenario-pass-1');
      await mta.start();
      pf = postfixTarget(postfix);
      mg = { name: 'mailgate', port: mta.mxPort, vars: { ...SCENARIO_POSTFIX_VARS } };
    }),
  );
  afterAll(() => td.run());

  /** Counts the messages each server took (both say "250 2.0.0 Ok: queued as ID"). */
  const countAccepted = (c: Comparison): void => {
    for (const [side, r] of [['mailgate', c.a], ['postfix', c.b]] as const) {
      for (const s of r.steps) accepted[side] += s.replies.filter((x) => x.code === 250 && /queued as/.test(x.text)).length;
    }
  };

  test.each(loadScenarios().map((s) => [s.name, s] as const))('%s: the same reply classes and enhanced codes', async (name, scenario) => {
    setup.check();
    const c = await compareScenario(scenario, mg, pf);
    countAccepted(c);
    const pinned = DELIBERATE[name] ?? [];
    const unexpected = c.differences.filter((d) => !pinned.some((p) => p.line.test(d)));
    expect(unexpected, describeComparison(c)).toEqual([]);
    // Every pinned difference still exists (else the pin is stale and must go).
    for (const p of pinned) expect(c.differences.some((d) => p.line.test(d)), `stale pin ${p.line}: ${p.why}\n${describeComparison(c)}`).toBe(true);
    // The files' expectations are Postfix's exact replies; Mailgate is held to the comparison above.
    expect(c.b.ok, c.b.transcript).toBe(true);
  });

  test.each(['mailgate', 'postfix'] as const)('STARTTLS injection, past the handshake: %s never runs the commands pipelined after STARTTLS', async (side) => {
    setup.check();
    const c = await RawClient.open(side === 'mailgate' ? mta.mxPort : postfix.port);
    try {
      expect((await c.reply())?.at(-1)).toMatch(/^220 /);
      expect(await c.command('EHLO client.example')).toMatch(/^250 /);
      c.write(`STARTTLS\r\nMAIL FROM:<injected@example.org>\r\nRCPT TO:<${LOCAL_USER}>\r\n`);
      expect((await c.reply())?.at(-1)).toMatch(/^220 2\.0\.0 /);
      await c.startTls();
      expect(await c.command('EHLO client.example')).toMatch(/^250 /);
      // Had the injected MAIL been kept, this RCPT would be accepted and DATA would get 354.
      expect(await c.command(`RCPT TO:<${LOCAL_USER}>`)).toMatch(/^503 5\.5\.1 /);
      expect(await c.command('DATA')).toMatch(/^503 5\.5\.1 /);
      expect(await c.command('MAIL FROM:<honest@example.org>')).toMatch(/^250 2\.1\.0 /);
      expect(await c.command('QUIT')).toMatch(/^221 /);
    } finally {
      c.close();
    }
  });

  test('afterwards: the queue is empty and the mailbox holds exactly the accepted messages', async () => {
    setup.check();
    expect(accepted.mailgate).toBeGreaterThan(0);
    expect(accepted.mailgate).toBe(accepted.postfix);
    const mail = await mta.waitForMaildir(LOCAL_USER, accepted.mailgate);
    const list = await waitFor('an empty queue', async () => {
      const r = await mta.cli(['queue', 'list']);
      return r.exitCode === 0 && r.stdout === 'Mail queue is empty\n' ? r : undefined;
    }, { timeoutMs: 20_000 });
    expect(list.exitCode).toBe(0);
    expect(mail).toHaveLength(accepted.mailgate);
    expect(mail.join('\n')).not.toContain('never finished');
    expect((await postfix.sink!.waitForMessages(accepted.postfix)).join('\n')).not.toContain('never finished');
    expect(await postfix.sink!.messages()).toHaveLength(accepted.postfix);
    // No half-written file anywhere in the queue: tmp/ (a message being received), messages/, state/ are empty.
    for (const sub of ['tmp', 'messages', 'state', 'hold']) expect(await readdir(join(mta.dataDir, 'queue', sub)).catch(() => []), sub).toEqual([]);
  });
});
