/**
 * QueueStore.ensureDirs: each directory made on its own with mode 0700 (never Node's recursive mkdir, which
 * spins for ever on a kernel filesystem), and the parent of each directory it made fsynced, so that a crash
 * cannot take away a queue directory that mail was already acknowledged in.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, type TempDir } from '../interop/harness/tmpdir.js';
import { QueueStore } from '../../src/queue/store.js';

const synced = vi.hoisted(() => [] as string[]);
vi.mock('../../src/queue/durable.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/queue/durable.js')>();
  return {
    ...m,
    fsyncDir: async (path: string): Promise<void> => {
      synced.push(path);
      await m.fsyncDir(path);
    },
  };
});

let dir: TempDir | undefined;
afterEach(async () => {
  await dir?.remove();
  dir = undefined;
  synced.length = 0;
});

describe('the queue directories', () => {
  it('are made 0700, each parent fsynced when a directory is first made, and nothing fsynced when all exist', async () => {
    dir = await makeTempDir('queue-dirs');
    const dataDir = join(dir.path, 'data');
    const store = new QueueStore(dataDir);
    await store.ensureDirs();
    const l = store.layout;
    for (const d of [dataDir, l.root, l.tmp, l.messages, l.state, l.hold, l.control]) {
      expect(((await stat(d)).mode & 0o777).toString(8), d).toBe('700');
    }
    expect(new Set(synced)).toEqual(new Set([dir.path, dataDir, l.root]));
    synced.length = 0;
    await store.ensureDirs();
    expect(synced).toEqual([]);
  });

  it('refuses a queue on a kernel filesystem at once instead of spinning in a recursive mkdir', async () => {
    const store = new QueueStore('/proc/self/no-such-dir/data');
    await expect(store.ensureDirs()).rejects.toThrow(/kernel filesystem/);
  }, 5_000);
});
