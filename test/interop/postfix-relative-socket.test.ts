// How main.cf names a milter socket in Postfix's queue directory, proved with the real Postfix: its
// daemons run in queue_directory (and a chrooted smtpd is chrooted there), so the relative form
// `unix:mailgate/milter.sock` reaches the socket with and without the chroot, while an absolute path
// works in only one of the two. This is why the manager advises the relative form.
//
//   swaks → Postfix (smtpd chroot y or n, smtpd_milters = unix:mailgate/milter.sock)
//         → MilterServer in this process on QUEUE_DIR/mailgate/milter.sock → smtp-sink
//
// A peer that cannot start makes every test FAIL with the start error (setupGuard), never skip.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postfixMilterAdvice } from '../../src/cli/postfix-milters.js';
import { defineFilter } from '../../src/mail/define-filter.js';
import { silentLogger } from '../../src/mail/logger.js';
import { CONTINUE } from '../../src/mail/reply.js';
import { MilterServer } from '../../src/milter/server.js';
import { startPostfix, type Postfix } from './harness/postfix.js';
import { describeResult, waitFor } from './harness/process.js';
import { setupGuard } from './harness/setup-guard.js';
import { sendWithSwaks } from './harness/swaks.js';
import { Teardown } from './harness/teardown.js';

const LIMITS = { timeout: 90_000 };

/** What the manager advises for a socket at Debian's place, /var/spool/postfix/mailgate/milter.sock. */
const ADVISED = postfixMilterAdvice('unix:/var/spool/postfix/mailgate/milter.sock').spec;

/** A milter that marks every message, so that its arrival at the sink proves Postfix reached it. */
const marker = (label: string) =>
  defineFilter('marker', { actions: ['addHeader'] }, () => ({
    endOfMessage: () => ({ reply: CONTINUE, changes: [{ kind: 'addHeader', name: 'X-Milter-Reached', value: label }] }),
  }));

describe('a milter socket named relative to Postfix’s queue directory', LIMITS, () => {
  const td = new Teardown();
  const setup = setupGuard();
  const postfixes = new Map<string, Postfix>();

  beforeAll(() =>
    setup.run(async () => {
      for (const chroot of [false, true]) {
        const label = chroot ? 'chroot' : 'no-chroot';
        // Postfix opens the milter per session: it may start before the socket exists.
        const pf = td.add(await startPostfix({ milterSpec: '', smtpdChroot: chroot, extra: { smtpd_milters: ADVISED } }));
        const dir = join(pf.queueDir, 'mailgate');
        await mkdir(dir, { recursive: true });
        const server = new MilterServer(marker(label), { logger: silentLogger, mode: '0660', group: 'postfix' });
        await server.listen(`unix:${join(dir, 'milter.sock')}`);
        td.defer(() => server.close());
        postfixes.set(label, pf);
      }
    }),
  );
  afterAll(() => td.run());

  test('the manager advises the relative form', () => {
    expect(ADVISED).toBe('unix:mailgate/milter.sock');
  });

  for (const label of ['no-chroot', 'chroot']) {
    test(`smtpd with ${label === 'chroot' ? 'chroot y (Debian’s default)' : 'chroot n'} reaches the socket through unix:mailgate/milter.sock`, async () => {
      setup.check();
      const pf = postfixes.get(label)!;
      const subject = `relative socket, ${label}`;
      const r = await sendWithSwaks({ port: pf.port, from: 'a@example.com', to: 'rcpt@example.org', headers: [`Subject: ${subject}`], body: 'x' });
      expect(r.exitCode, `${describeResult(r)}\n--- maillog ---\n${await pf.log()}`).toBe(0);
      const message = await waitFor(
        `message "${subject}" at the smtp-sink`,
        async () => (await pf.sink?.messages())?.find((m) => m.includes(`Subject: ${subject}`)),
        { timeoutMs: 20_000, diagnostics: () => pf.log() },
      );
      expect(message).toMatch(new RegExp(`^X-Milter-Reached: ${label}$`, 'm'));
    });
  }
});
