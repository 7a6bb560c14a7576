/** `mailgate queue …` run as a command (dist/) against a queue that a scheduler in this process is running. */
import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { builtModule } from '../dist.js';
import { input, setup, type Setup } from './helpers.js';

let s: Setup;
afterEach(async () => s.close());

function mailgate(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [builtModule('cli/main.js'), ...args], (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
    );
  });
}

describe('mailgate queue', () => {
  it('lists, shows, holds, flushes, releases and deletes while the scheduler runs', async () => {
    s = await setup({ minimalBackoffTime: 60_000, maximalBackoffTime: 60_000, queueRunDelay: 60_000 });
    const config = join(s.dir.path, 'mailgate.toml');
    await writeFile(config, `data_dir = ${JSON.stringify(s.dir.path)}\n`);
    let up = false;
    s.transport.decide = () => (up ? {} : { status: 'deferred', diagnostic: 'connect refused' });
    await s.queue.start();
    const a = input(s.queue);
    const b = input(s.queue);
    await s.queue.enqueue(a);
    await s.queue.enqueue(b);
    await s.transport.until(() => s.lines.filter((l) => l.includes('status=deferred')).length === 2, 'two deferrals');

    const list = await mailgate('queue', 'list', '--config', config);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------');
    expect(list.stdout).toContain(`${a.id}  `);
    expect(list.stdout).toContain('(connect refused)');
    expect(list.stdout).toContain('in 2 Requests.');

    const show = await mailgate('queue', 'show', a.id, '--config', config);
    expect(show.stdout).toContain(`queue_id: ${a.id}`);
    expect(show.stdout).toContain('Subject: hello');

    expect((await mailgate('queue', 'hold', a.id, '--config', config)).stdout).toBe(`${a.id}: placed on hold\n`);
    expect((await mailgate('queue', 'list', '--config', config)).stdout).toContain(`${a.id}!`);
    up = true;
    expect((await mailgate('queue', 'flush', '--config', config)).stdout).toBe('queue flush requested\n');
    await s.transport.until(() => s.lines.includes(`${b.id}: removed`), 'b delivered after the flush');
    expect(s.lines).not.toContain(`${a.id}: removed`);

    expect((await mailgate('queue', 'release', a.id, '--config', config)).stdout).toBe(`${a.id}: released from hold\n`);
    await s.transport.until(() => s.lines.includes(`${a.id}: removed`), 'a delivered after the release');

    const gone = await mailgate('queue', 'delete', a.id, '--config', config);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe(`mailgate: ${a.id}: no such message\n`);
    expect((await mailgate('queue', 'show', 'nope', '--config', config)).code).toBe(2);
    expect((await mailgate('queue', 'list', '--config', config)).stdout).toBe('Mail queue is empty\n');
  });

  it('deletes a deferred message, and says when no scheduler runs to flush', async () => {
    s = await setup();
    const config = join(s.dir.path, 'mailgate.toml');
    await writeFile(config, `data_dir = ${JSON.stringify(s.dir.path)}\n`);
    const a = input(s.queue);
    await s.queue.enqueue(a);
    expect((await mailgate('queue', 'delete', a.id, '--config', config)).stdout).toBe(`${a.id}: removed\n`);
    const flush = await mailgate('queue', 'flush', '--config', config);
    expect(flush.code).toBe(1);
    expect(flush.stderr).toBe('mailgate: cannot flush the mail queue: mailgate start is not running\n');
  });
});
