/** The listening unix socket's life: where it may be created, and with what permissions it first appears. */
import { spawn } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defineFilter } from '../../src/mail/define-filter.js';
import { silentLogger } from '../../src/mail/logger.js';
import { MilterServer } from '../../src/milter/server.js';
import { SocketSetupError, socketAnswers } from '../../src/milter/socket-file.js';
import { tempDir } from './helpers.js';
import { until } from './wire-helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function server(mode: string): MilterServer {
  const s = new MilterServer(defineFilter('t', {}, () => ({})), { logger: silentLogger, mode, drainTimeout: 1 });
  cleanups.push(() => s.close());
  return s;
}

/**
 * The kernel's own record (inotify, read by a small python3 program) of how names appear in `dir`:
 * "create NAME" when a file is created or linked there, "moved_to NAME" when one is renamed into it,
 * "attrib NAME" when its mode or owner changes. Events are queued in order by the kernel, so no
 * thread has to be fast enough to catch a short window.
 */
const INOTIFY = `
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init()
if fd < 0 or libc.inotify_add_watch(fd, sys.argv[1].encode(), 0x100 | 0x80 | 0x4) < 0: sys.exit('inotify failed')
print('ready', flush=True)
while True:
    buf = os.read(fd, 4096)
    i = 0
    while i < len(buf):
        wd, mask, cookie, n = struct.unpack_from('iIII', buf, i)
        name = buf[i + 16:i + 16 + n].rstrip(b'\\0').decode()
        i += 16 + n
        print(('create' if mask & 0x100 else 'moved_to' if mask & 0x80 else 'attrib'), name, flush=True)
`;

async function watchNames(dir: string): Promise<{ events(): string[] }> {
  const child = spawn('python3', ['-c', INOTIFY, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => void child.kill());
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`inotify watcher exited (${String(code)})`)));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.startsWith('ready\n')) resolve();
    });
  });
  return { events: () => out.split('\n').slice(1).filter((l) => l !== '') };
}

describe('the socket appears with its final mode (hostile-test defect: umask-derived first)', () => {
  it('under umask 000 the socket is never bound at its path: it is linked there, already 0600', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.cleanup());
    const path = join(dir.path, 'milter.sock');
    const old = process.umask(0);
    cleanups.push(() => void process.umask(old));
    const watcher = await watchNames(dir.path);
    await server('0600').listen(`unix:${path}`);
    expect((statSync(path).mode & 0o7777).toString(8)).toBe('600');
    // A marker made after listen() returned: once it shows, every event before it has been read.
    writeFileSync(join(dir.path, 'marker'), '');
    expect(await until(() => watcher.events().includes('create marker'))).toBe(true);
    // Bound and chmodded under the 0700 private directory: the name appears once (the link), and its
    // mode or owner never changes at the path Postfix connects to (a chmod there would be an attrib).
    expect(watcher.events().filter((e) => e.endsWith(' milter.sock'))).toEqual(['create milter.sock']);
  });

  it('leaves nothing else in the directory, listening or closed', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.cleanup());
    const s = server('0660');
    await s.listen(`unix:${join(dir.path, 'milter.sock')}`);
    expect(readdirSync(dir.path)).toEqual(['milter.sock']);
    await s.close();
    expect(readdirSync(dir.path)).toEqual([]);
  });
});

describe('a socket path on a kernel filesystem is refused (hostile-test defect: /proc hung at 100 % CPU)', () => {
  // The test's timeout is only a hang guard: before the fix, mkdir under /proc never returned.
  it.each(['/proc/mailgate-test/run/milter.sock', '/proc/milter.sock', '/sys/mailgate-test/milter.sock'])(
    '%s',
    async (path) => {
      const err = await server('0660')
        .listen(`unix:${path}`)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SocketSetupError);
      expect((err as Error).message).toMatch(/is on (proc|sysfs) \(\/(proc|sys)\), a kernel filesystem that cannot hold a socket/);
    },
    15_000,
  );
});

describe('a busy server is never taken for a stale socket', () => {
  it('a full listen backlog (EAGAIN on connect) counts as listening, not as stale', async () => {
    const dir = tempDir('mailgate-busy-');
    cleanups.push(() => dir.cleanup());
    const path = join(dir.path, 'milter.sock');
    // A server with a backlog of 1 whose event loop is blocked: it accepts nothing for a while.
    const child = spawn(process.execPath, [
      '-e',
      `require('net').createServer().listen({ path: ${JSON.stringify(path)}, backlog: 1 }, () => {
         console.log('ready');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20000);
       });`,
    ]);
    cleanups.push(() => void child.kill('SIGKILL'));
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    const { connect } = await import('node:net');
    const refusals: string[] = [];
    const fillers = Array.from({ length: 8 }, () => connect(path).on('error', (e: NodeJS.ErrnoException) => refusals.push(e.code ?? '')));
    cleanups.push(() => fillers.forEach((f) => f.destroy()));
    expect(await until(() => refusals.length > 0, 10_000)).toBe(true);
    expect(refusals).toContain('EAGAIN');
    expect(await socketAnswers(path)).toBe(true);
  });
});
