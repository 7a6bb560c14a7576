/** Shared set-up of the queue's tests: a queue in a temp dir with a fake transport and millisecond timings. */
import { Readable } from 'node:stream';
import { makeTempDir, type TempDir } from '../interop/harness/tmpdir.js';
import { openQueue, type Queue, type QueueOptions } from '../../src/queue/open.js';
import type { QueuedRecipient, SpoolInput } from '../../src/store/spool.js';
import { FakeTransport, memoryLogger } from './fake-transport.js';

export const FAST = {
  minimalBackoffTime: 40,
  maximalBackoffTime: 160,
  maximalQueueLifetime: 60_000,
  bounceQueueLifetime: 60_000,
  queueRunDelay: 30,
};

export interface Setup {
  dir: TempDir;
  queue: Queue;
  transport: FakeTransport;
  lines: string[];
  reopen(extra?: Partial<QueueOptions>): Queue;
  close(): Promise<void>;
}

export async function setup(extra: Partial<QueueOptions> = {}): Promise<Setup> {
  const dir = await makeTempDir('queue');
  const transport = new FakeTransport();
  const { lines, logger } = memoryLogger();
  const make = (more: Partial<QueueOptions> = {}): Queue =>
    openQueue({ dataDir: dir.path, hostname: 'mx.test', transport, logger, ...FAST, ...extra, ...more });
  const s: Setup = {
    dir,
    queue: make(),
    transport,
    lines,
    reopen: (more) => (s.queue = make(more)),
    close: async () => {
      await s.queue.stop();
      await dir.remove();
    },
  };
  return s;
}

export const MESSAGE = 'Received: from client\r\nFrom: a@example.com\r\nTo: b@example.org\r\nSubject: hello\r\n\r\nbody line\r\n';

export function rcpt(address: string, more: Partial<QueuedRecipient> = {}): QueuedRecipient {
  return { address, original: address, ...more };
}

export function input(queue: Queue, more: Partial<SpoolInput> & { text?: string } = {}): SpoolInput {
  const { text, ...rest } = more;
  return {
    id: queue.newId(),
    sender: 'a@example.com',
    recipients: [rcpt('b@example.org')],
    client: 'client.example [192.0.2.9]',
    message: Readable.from([Buffer.from(text ?? MESSAGE)]),
    ...rest,
  };
}
