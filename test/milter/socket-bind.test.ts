/**
 * How the listening socket reaches its path: linked, never renamed over another (reviewer defect: two
 * servers on one path both "succeeded"), removed at close only while it is still this server's, the
 * private directory reached through a descriptor (a swapped directory cannot redirect chmod), leftovers
 * of a killed server removed, and a directory too long for the private path refused by name.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, renameSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defineFilter } from '../../src/mail/define-filter.js';
import { silentLogger } from '../../src/mail/logger.js';
import { MilterServer } from '../../src/milter/server.js';
import { bindSocketFile } from '../../src/milter/socket-bind.js';
import { socketAnswers, SocketSetupError } from '../../src/milter/socket-file.js';
import { tempDir } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function server(): MilterServer {
  const s = new MilterServer(defineFilter('t', {}, () => ({})), { logger: silentLogger, mode: '0660', drainTimeout: 1 });
  cleanups.push(() => s.close());
  return s;
}

function dir(): string {
  const d = tempDir();
  cleanups.push(() => d.cleanup());
  return d.path;
}

/** A socket file nobody listens on, as a killed process leaves it (python binds and exits). */
function deadSocket(path: string): void {
  execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path]);
}

function listenPlain(path: string): Promise<Server> {
  const s = createServer((c) => c.end());
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  return new Promise((resolve) => s.listen(path, () => resolve(s)));
}

const PERMS = { mode: 0o660, uid: -1, gid: -1 };

describe('two servers on one path', () => {
  it('started together: one listens, the other is refused (failed before: both succeeded, one unreachable)', async () => {
    const path = join(dir(), 'milter.sock');
    const results = await Promise.allSettled([server().listen(`unix:${path}`), server().listen(`unix:${path}`)]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.reason).toBeInstanceOf(SocketSetupError);
    expect((refused[0]!.reason as Error).message).toMatch(/in use by another running process/);
    expect(await socketAnswers(path)).toBe(true);
  });

  it('a live socket that appears at the path while binding is not replaced', async () => {
    const path = join(dir(), 'milter.sock');
    const err = await bindSocketFile(path, PERMS, async (temp) => {
      await listenPlain(temp);
      await listenPlain(path); // another server, between our checks and our link
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SocketSetupError);
    expect((err as Error).message).toMatch(/in use by another running process/);
    expect(await socketAnswers(path)).toBe(true);
  });

  it('a dead socket that appears at the path while binding is replaced', async () => {
    const d = dir();
    const path = join(d, 'milter.sock');
    let bound: Server | undefined;
    await bindSocketFile(path, PERMS, async (temp) => {
      bound = await listenPlain(temp);
      deadSocket(path);
    });
    expect(bound).toBeDefined();
    expect(await socketAnswers(path)).toBe(true);
    expect((statSync(path).mode & 0o777).toString(8)).toBe('660');
    expect(readdirSync(d)).toEqual(['milter.sock']);
  });

  it('close() leaves alone a socket another server put at the path since (failed before: it removed it)', async () => {
    const path = join(dir(), 'milter.sock');
    const first = server();
    await first.listen(`unix:${path}`);
    unlinkSync(path); // e.g. an admin cleaning up, then a second instance starting
    const second = server();
    await second.listen(`unix:${path}`);
    await first.close();
    expect(existsSync(path)).toBe(true);
    expect(await socketAnswers(path)).toBe(true);
    await second.close();
    expect(existsSync(path)).toBe(false);
  });
});

describe('the private directory swapped between bind and chmod (a writer of the socket directory)', () => {
  it('chmod and link reach the socket that was bound, never a symlink put in its place (failed before: the victim was chmodded)', async () => {
    const d = dir();
    const victim = join(d, 'victim');
    writeFileSync(victim, 'secret');
    chmodSync(victim, 0o600);
    const path = join(d, 'milter.sock');
    await bindSocketFile(path, { mode: 0o666, uid: -1, gid: -1 }, async (temp) => {
      await listenPlain(temp);
      // What a group member may do in a group-writable directory without the sticky bit.
      const privateDir = join(temp, '..');
      renameSync(privateDir, `${privateDir}-moved`);
      mkdirSync(privateDir);
      symlinkSync(victim, join(privateDir, 's'));
    });
    expect((statSync(victim).mode & 0o777).toString(8)).toBe('600');
    expect(lstatSync(path).isSocket()).toBe(true);
    expect(await socketAnswers(path)).toBe(true);
  });
});

describe('leftovers of a killed server', () => {
  it('private directories of ours older than a minute, empty or holding a dead socket, are removed at start (failed before)', async () => {
    const d = dir();
    const old = new Date(Date.now() - 10 * 60_000);
    const make = (name: string, fill?: (p: string) => void, aged = true): void => {
      const p = join(d, name);
      mkdirSync(p, { mode: 0o700 });
      fill?.(p);
      if (aged) utimesSync(p, old, old);
    };
    make('.mgEmpty1');
    make('.mgDead01', (p) => deadSocket(join(p, 's')));
    make('.mgFile01', (p) => writeFileSync(join(p, 's'), 'not a socket'));
    make('.mgYoung1', undefined, false); // may be another server binding right now
    make('.mgLive01');
    const live = await listenPlain(join(d, '.mgLive01', 's'));
    utimesSync(join(d, '.mgLive01'), old, old);
    make('mgNotOurs');
    await server().listen(`unix:${join(d, 'milter.sock')}`);
    expect(readdirSync(d).sort()).toEqual(['.mgFile01', '.mgLive01', '.mgYoung1', 'mgNotOurs', 'milter.sock'].sort());
    live.close();
  });
});

describe('sun_path', () => {
  it('a directory too long for the private path is refused naming the 107-byte limit (before: an unclear bind error)', async () => {
    const base = dir();
    // A directory of 100 bytes: "m.sock" fits as final (107 bytes) but not as .mgXXXXXX/s (112).
    const long = join(base, 'd'.repeat(100 - base.length - 1));
    expect(long.length).toBe(100);
    mkdirSync(long);
    const err = await server()
      .listen(`unix:${join(long, 'm.sock')}`)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SocketSetupError);
    expect((err as Error).message).toMatch(/over the 107-byte limit of a unix socket path \(sun_path\): use a socket directory of at most 95 bytes/);
  });
});
