// The review's mail loop through `mailgate start` (finding 1, delivery side): relay_host names our own
// [smtp] listener. The message is not passed round and round: it fails at once with 5.4.6 "mail for
// 127.0.0.1 loops back to myself" and the sender gets the bounce; the queue is empty afterwards.
import { appendFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMta, type Mta } from '../interop/harness/mta.js';
import { runCommand, waitFor } from '../interop/harness/process.js';

describe('mailgate start: relay_host pointing back at ourselves', { timeout: 60_000 }, () => {
  let mta: Mta;
  beforeAll(async () => {
    mta = await makeMta();
    await appendFile(mta.configFile, `[delivery]\nrelay_host = "[127.0.0.1]:${mta.mxPort}"\n`);
    await mta.addUser('alice@localhost', 'alice-pass-1');
    await mta.start();
  }, 60_000);
  afterAll(async () => {
    await mta?.remove();
  });

  it('bounces the message with 5.4.6 "loops back to myself" instead of sending it to itself', async () => {
    const r = await runCommand('/usr/bin/swaks', ['--server', `127.0.0.1:${mta.mxPort}`, '--timeout', '30s', '--helo', 'client.example', '--from', 'alice@localhost', '--to', 'bob@remote.example', '--header', 'Subject: loop me'], { timeoutMs: 45_000 });
    expect(r.stdout).toMatch(/<- {2}250 2\.0\.0 Ok: queued as/);
    const mail = await waitFor('the bounce in alice\'s Maildir', async () => {
      const m = await mta.maildir('alice@localhost');
      return m.find((x) => x.includes('Subject: loop me') && /^Action: failed/m.test(x));
    }, { timeoutMs: 20_000, daemon: mta.daemon() });
    expect(mail).toMatch(/^Status: 5\.4\.6/m);
    expect(mail).toContain('loops back to myself');
    // Only the bounce: the message never came back in as a second copy to relay again.
    expect((await mta.maildir('alice@localhost')).filter((x) => x.includes('loop me'))).toHaveLength(1);
    await waitFor('an empty queue', async () => ((await mta.cli(['queue', 'list'])).stdout === 'Mail queue is empty\n' ? true : undefined), {
      timeoutMs: 20_000,
      daemon: mta.daemon(),
    });
  });
});
