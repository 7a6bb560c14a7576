/**
 * The SMTP server against real swaks (and a raw socket where swaks cannot say it): delivery into the
 * Spool with our Received on top, recipients and aliases, relay refusal, AUTH over STARTTLS, limits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from './raw-client.js';
import { startServer, swaks, type Started } from './harness.js';

let started: Started | undefined;
afterEach(async () => {
  await started?.close();
  started = undefined;
});

describe('MX listener', () => {
  it('queues a message for a local user with our Received on top and answers with the queue id', async () => {
    started = await startServer();
    const r = await swaks(started.port('mx'), ['--from', 'someone@remote.example', '--to', 'alice@example.org', '--header', 'Subject: hi']);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(started.spool.messages).toHaveLength(1);
    const m = started.spool.messages[0]!;
    expect(r.stdout).toContain(`250 2.0.0 Ok: queued as ${m.id}`);
    expect(m.sender).toBe('someone@remote.example');
    expect(m.recipients).toEqual([{ address: 'alice@example.org', original: 'alice@example.org' }]);
    expect(m.client).toBe('[127.0.0.1]');
    const text = m.data.toString('latin1');
    expect(text).toMatch(
      new RegExp(`^Received: from client\\.test \\(unknown \\[127\\.0\\.0\\.1\\]\\)\\r\\n\\tby mx\\.test \\(Mailgate\\) with ESMTP id ${m.id}\\r\\n\\tfor <alice@example\\.org>; \\w{3}, \\d+ \\w{3} \\d{4} \\d\\d:\\d\\d:\\d\\d \\+0000 \\(UTC\\)\\r\\n`),
    );
    expect(text).toContain('Subject: hi\r\n');
    expect(started.logs.some((l) => l.startsWith('connect from unknown[127.0.0.1]'))).toBe(true);
  });
});
