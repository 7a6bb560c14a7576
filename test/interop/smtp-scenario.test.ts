// Proves the scenario runner (harness/smtp-scenario.ts) and the scenario files in test/smtp/scenarios/
// against a real private Postfix smtpd, the reference the MTA's differential tests compare Mailgate
// with: every file's expectations hold for Postfix, and a comparison of two differently configured
// Postfix instances finds exactly the replies that differ.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Teardown } from './harness/teardown.js';
import { waitFor } from './harness/process.js';
import { setupGuard } from './harness/setup-guard.js';
import type { Postfix } from './harness/postfix.js';
import { postfixTarget, startScenarioPostfix } from './harness/scenario-postfix.js';
import { compareScenario, compareScenarioFiles, describeComparison, loadScenario, loadScenarios, runScenario, SCENARIO_DIR, type ScenarioTarget } from './harness/smtp-scenario.js';
import { join } from 'node:path';

const LIMITS = { timeout: 60_000 };

describe('harness: SMTP scenarios against a private Postfix', LIMITS, () => {
  const td = new Teardown();
  const setup = setupGuard();
  let strict: Postfix;
  let trusting: Postfix;
  let strictTarget: ScenarioTarget;
  beforeAll(() =>
    setup.run(async () => {
      strict = td.add(await startScenarioPostfix());
      // The same, but loopback is in mynetworks (Postfix's and Mailgate's default): it relays.
      trusting = td.add(await startScenarioPostfix({ mynetworks: '127.0.0.0/8' }));
      strictTarget = postfixTarget(strict);
    }),
  );
  afterAll(() => td.run());

  test.each(loadScenarios().map((s) => [s.name, s] as const))('%s: Postfix replies as the file expects', async (_, scenario) => {
    setup.check();
    const r = await runScenario(scenario, strictTarget);
    expect(r.ok, r.transcript).toBe(true);
  });

  test('the accepted message of too-many-recipients reaches the sink (Postfix cleanup merges the duplicate recipients)', async () => {
    setup.check();
    const r = await runScenario(loadScenario(join(SCENARIO_DIR, 'too-many-recipients.json')), strictTarget);
    expect(r.ok, r.transcript).toBe(true);
    // Other scenario files (run before) put their messages in the same sink: find this one's.
    const dump = await waitFor('the too-many-recipients message in the sink', async () =>
      (await (strict.sink ?? expect.unreachable()).messages()).find((m) => m.endsWith('\n\n') && m.includes('Subject: too many recipients')),
    );
    const rcpts = dump?.match(/^X-Rcpt-Args: .*$/gm) ?? [];
    expect(rcpts).toHaveLength(1);
    expect(rcpts[0]).toMatch(/^X-Rcpt-Args: <user@local\.example>/);
    expect(dump).toContain('Subject: too many recipients');
  });

  test('compare: the same server twice has no differences', async () => {
    setup.check();
    const all = await compareScenarioFiles(strictTarget, { ...strictTarget, name: 'postfix-again' });
    expect(all.map((c) => c.a.scenario)).toEqual(loadScenarios().map((s) => s.name));
    for (const c of all) expect(c.differences, describeComparison(c)).toEqual([]);
  });

  test('compare: loopback in mynetworks differs exactly at the relay attempt', async () => {
    setup.check();
    const relay = loadScenario(join(SCENARIO_DIR, 'relay-denied.json'));
    const c = await compareScenario(relay, strictTarget, postfixTarget(trusting, 'postfix-mynetworks'));
    expect(c.differences, describeComparison(c)).toHaveLength(1);
    expect(c.differences[0]).toMatch(/^step 4 .* reply 1: postfix 554 5\.7\.1 .*Relay access denied.* \| postfix-mynetworks 250 2\.1\.5/);
    const syntax = await compareScenario(loadScenario(join(SCENARIO_DIR, 'bad-syntax.json')), strictTarget, postfixTarget(trusting, 'postfix-mynetworks'));
    expect(syntax.differences, describeComparison(syntax)).toEqual([]);
  });

  test('raw bytes: a bare-LF command line and a NUL byte reach the server as sent', async () => {
    setup.check();
    const scenario = {
      name: 'raw',
      description: '',
      needs: {},
      steps: [
        { expect: [{ code: '220' }], close: false },
        // Postfix 3.7 (smtpd_forbid_bare_newline = no) takes a bare LF as the end of a command line.
        { raw: 'NOOP\n', expect: [{ code: '250', enhanced: '2.0.0' }], close: false },
        // Postfix refuses a command with a NUL byte in it.
        { raw: 'NO\u0000OP\r\n', expect: [{ code: '5' }], close: false },
        { send: 'QUIT', expect: [{ code: '221' }], close: true },
      ],
    };
    const r = await runScenario(scenario, strictTarget);
    expect(r.ok, r.transcript).toBe(true);
  });
});
