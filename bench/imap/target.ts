/**
 * An IMAP server under bench:imap: where to connect, whom to log in as, and how to read its memory and
 * CPU (its one process, or its process tree), so the measuring code is the same for every server.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface ImapUnderTest {
  readonly name: 'mailgate' | 'dovecot';
  /** The IMAP port (it may change at restart). */
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** The server's memory as bench:imap compares it, kB (see memory.ts). */
  memoryKb(): Promise<number>;
  /** CPU time used so far by the server, ms. */
  cpuMs(): Promise<number>;
  /** Stops and starts the server again on the same Maildir and indexes (a fresh process, its caches cold). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** How the password is stored: each server's own default, or one SHA512-CRYPT hash given to both. */
export type PasswordHash = 'own' | 'sha512-crypt';

export const BENCH_DOMAIN = 'bench.example';
export const BENCH_LOCAL = 'bench';
export const BENCH_USER = `${BENCH_LOCAL}@${BENCH_DOMAIN}`;
export const BENCH_PASSWORD = 'bench-imap-password';

/**
 * A hard-linked copy of the corpus Maildir at `to` (`cp -al`): the same inodes, so mtimes (internal dates)
 * and contents are identical for both servers, and nothing is copied. Renames and new files of one server
 * (new/ to cur/, flags, indexes) stay in its own copy.
 */
export async function linkCopy(from: string, to: string): Promise<void> {
  await promisify(execFile)('cp', ['-al', from, to]);
}
