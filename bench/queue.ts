/**
 * `npm run bench:queue`: enqueues/s of the spool (4 KiB messages, fsync on) at 1, 10 and 50 concurrent
 * writers, with the group commit of directory fsyncs and without, and how many directory fsyncs each
 * needed. The spool alone, no SMTP and no delivery: the number to compare when tuning the commit path.
 * State in a scratch directory under the working directory's .tmp/ (a real disk, not a tmpfs).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { openQueue } from '../src/queue/open.js';
import { silentLogger } from '../src/mail/logger.js';
import { benchOptions, count } from './options.js';

const o = benchOptions('bench:queue', {
  messages: count(2000, 'messages per row'),
});

const body = Buffer.from(`Subject: bench\r\n\r\n${'x'.repeat(4096)}\r\n`);
const transport = { deliver: () => Promise.resolve([]), close: () => Promise.resolve() };

async function row(writers: number, groupCommit: boolean): Promise<void> {
  const base = resolve('.tmp');
  await mkdir(base, { recursive: true });
  const dataDir = await mkdtemp(join(base, 'bench-queue-'));
  const queue = openQueue({ dataDir, hostname: 'bench', transport, logger: silentLogger, groupCommit });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (next < o.messages) {
        next += 1;
        await queue.enqueue({
          id: queue.newId(),
          sender: 'a@example.com',
          recipients: [{ address: 'b@example.org', original: 'b@example.org' }],
          client: '[127.0.0.1]',
          message: Readable.from([body]),
        });
      }
    }),
  );
  const s = (performance.now() - started) / 1000;
  const { fsyncs, callers } = queue.commitStats;
  console.log(
    `${String(writers).padStart(3)} writers  group commit ${groupCommit ? 'on ' : 'off'}  ${(o.messages / s).toFixed(0).padStart(6)} msg/s  ` +
      `${fsyncs} dir fsyncs for ${callers} messages`,
  );
  await rm(dataDir, { recursive: true, force: true });
}

for (const writers of [1, 10, 50]) for (const gc of [false, true]) await row(writers, gc);
