/**
 * The queue's files (layout.ts) and every operation on them, shared by the scheduler and the CLI:
 * writing a new message durably, reading envelopes and states, hold markers, removal, and the start-up
 * cleanup that makes a crash at any point leave either no message or a complete one.
 */
import { mkdir, open, readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { makeDirectory } from '../config/make-directory.js';
import { DirSyncer, fsyncDir, publishNew, publishReplace, writeTemp } from './durable.js';
import { queueLayout, type QueueLayout } from './layout.js';
import { decodeEnvelope, encodeEnvelope, ENVELOPE_PREFIX_MAX, QueueFileError, type Envelope } from './queue-file.js';
import { decodeState, encodeState, type MessageState } from './state.js';
import { QUEUE_ID } from './id.js';

export interface StoredMessage {
  readonly envelope: Envelope;
  /** Bytes of the message (after the envelope). */
  readonly size: number;
  readonly bodyOffset: number;
}

/** A message just written: what is stored, and its bytes when they were written in one piece (Written). */
export interface WrittenMessage {
  readonly stored: StoredMessage;
  readonly bytes: Buffer | undefined;
}

/** What the scheduler knows of a message's other files, so that removing it touches only those. */
export interface KnownFiles {
  /** A state file was written (or may be there: a message loaded at start). */
  readonly state: boolean;
  /** A hold marker was set at some point. */
  readonly hold: boolean;
}

export class QueueStore {
  readonly layout: QueueLayout;
  private readonly syncers: Record<'messages' | 'state' | 'hold', DirSyncer>;
  private tmpSeq = 0;

  constructor(dataDir: string, groupCommit = true) {
    this.layout = queueLayout(dataDir);
    this.syncers = {
      messages: new DirSyncer(this.layout.messages, groupCommit),
      state: new DirSyncer(this.layout.state, groupCommit),
      hold: new DirSyncer(this.layout.hold, groupCommit),
    };
  }

  /** fsync counters of the messages/ directory (group commit: fsyncs ≤ callers). */
  get commitStats(): { fsyncs: number; callers: number } {
    return this.syncers.messages.stats;
  }

  /** Closes the directories kept open for fsync (a later write opens them again). */
  async close(): Promise<void> {
    await Promise.all(Object.values(this.syncers).map((s) => s.close()));
  }

  /**
   * Creates the directories (mode 0700 at creation), each on its own (makeDirectory: no recursive mkdir,
   * which spins for ever on a kernel filesystem), and fsyncs the parent of each one it made: a queue
   * directory that vanished in a crash would take the mail acknowledged in it along.
   */
  async ensureDirs(): Promise<void> {
    const l = this.layout;
    const made = makeDirectory(l.root, 0o700);
    for (const d of [l.tmp, l.messages, l.state, l.hold, l.control]) {
      try {
        await mkdir(d, { mode: 0o700 });
        made.push(d);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    for (const parent of new Set(made.map((d) => dirname(d)))) await fsyncDir(parent);
  }

  /**
   * Start-up recovery (run by the scheduler only): temp files are a crash's leftovers (a message not yet
   * acknowledged, or a state rewrite not yet in place) and are removed; so are state files and hold
   * markers whose message is gone (a removal cut short). Returns the ids of the messages present.
   */
  async recover(): Promise<string[]> {
    await this.ensureDirs();
    const l = this.layout;
    for (const name of await readdir(l.tmp)) await rm(join(l.tmp, name), { force: true });
    const ids = (await readdir(l.messages)).filter((n) => QUEUE_ID.test(n)).sort();
    const present = new Set(ids);
    for (const dir of [l.state, l.hold]) {
      for (const name of await readdir(dir)) if (!present.has(name)) await rm(join(dir, name), { force: true });
    }
    return ids;
  }

  private tmpName(id: string, kind: string): string {
    this.tmpSeq += 1;
    return join(this.layout.tmp, `${id}.${kind}.${process.pid}.${this.tmpSeq}`);
  }

  /**
   * Writes a new message: temp file, fsync, link into messages/, fsync messages/ (group commit); a hold
   * marker first when `hold` is set. Resolves only when all of it is durable; on failure nothing stays.
   */
  async writeMessage(envelope: Envelope, body: Readable | Buffer, hold?: string): Promise<WrittenMessage> {
    const id = envelope.id;
    if (!QUEUE_ID.test(id)) throw new QueueFileError(`bad queue id ${JSON.stringify(id)}`);
    if (hold !== undefined) await this.setHold(id, hold);
    const head = encodeEnvelope(envelope);
    const tmp = this.tmpName(id, 'msg');
    try {
      const { size, bytes } = await writeTemp(tmp, head, body);
      await publishNew(tmp, this.layout.message(id));
      try {
        await this.syncers.messages.sync();
      } catch (err) {
        await unlink(this.layout.message(id)).catch(() => undefined);
        throw err;
      }
      return { stored: { envelope, size, bodyOffset: head.length }, bytes };
    } catch (err) {
      if (hold !== undefined) await unlink(this.layout.holdFile(id)).catch(() => undefined);
      throw err;
    }
  }

  /** The envelope of a queued message (reads only the file's head); undefined when it is not there. */
  async readMessage(id: string): Promise<StoredMessage | undefined> {
    let fh;
    try {
      fh = await open(this.layout.message(id), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const { size: fileSize } = await fh.stat();
      const prefix = Buffer.alloc(Math.min(ENVELOPE_PREFIX_MAX, fileSize));
      await fh.read(prefix, 0, prefix.length, 0);
      let buf = prefix;
      try {
        return this.stored(decodeEnvelope(buf), fileSize);
      } catch (err) {
        if (!(err instanceof QueueFileError) || !/truncated envelope/.test(err.message)) throw err;
      }
      const lenLine = prefix.toString('latin1').split('\n')[1] ?? '0';
      const want = Math.min(fileSize, ENVELOPE_PREFIX_MAX + Number(lenLine) + 1);
      buf = Buffer.alloc(want);
      await fh.read(buf, 0, want, 0);
      return this.stored(decodeEnvelope(buf), fileSize);
    } finally {
      await fh.close();
    }
  }

  private stored(d: { envelope: Envelope; bodyOffset: number }, fileSize: number): StoredMessage {
    return { envelope: d.envelope, bodyOffset: d.bodyOffset, size: fileSize - d.bodyOffset };
  }

  async readState(env: Envelope): Promise<MessageState | undefined> {
    try {
      return decodeState(await readFile(this.layout.stateFile(env.id)), env);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Rewrites the state durably; skipped (false) when the message was removed meanwhile (queue delete). */
  async writeState(id: string, state: MessageState): Promise<boolean> {
    const tmp = this.tmpName(id, 'state');
    await writeTemp(tmp, encodeState(state));
    await publishReplace(tmp, this.layout.stateFile(id));
    if (!(await this.exists(id))) {
      await unlink(this.layout.stateFile(id)).catch(() => undefined);
      return false;
    }
    await this.syncers.state.sync();
    return true;
  }

  async exists(id: string): Promise<boolean> {
    try {
      await stat(this.layout.message(id));
      return true;
    } catch {
      return false;
    }
  }

  async setHold(id: string, reason: string): Promise<void> {
    const tmp = this.tmpName(id, 'hold');
    await writeTemp(tmp, Buffer.from(reason + '\n', 'utf8'));
    await publishReplace(tmp, this.layout.holdFile(id));
    await this.syncers.hold.sync();
  }

  /** Removes the hold marker; false when there was none. */
  async clearHold(id: string): Promise<boolean> {
    try {
      await unlink(this.layout.holdFile(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    await this.syncers.hold.sync();
    return true;
  }

  /** The hold reason, or undefined when the message is not on hold. */
  async holdReason(id: string): Promise<string | undefined> {
    try {
      return (await readFile(this.layout.holdFile(id), 'utf8')).trim();
    } catch {
      return undefined;
    }
  }

  async heldIds(): Promise<Set<string>> {
    return new Set(await readdir(this.layout.hold));
  }

  /**
   * Removes a message for good: the message file first (then it is gone), then its state and marker.
   * Without `known` (queue delete): every file, whether or not it is there, and the removal is made durable.
   * With `known` (the scheduler, after the last delivery): only the files it knows of, and no directory
   * fsync. Postfix's qmgr does not fsync after removing a delivered queue file either: a crash can at
   * worst bring the message back and deliver it twice, never lose it. A file it did not know of (a
   * marker set behind its back) is an orphan that the next start's recovery removes.
   */
  async remove(id: string, known?: KnownFiles): Promise<boolean> {
    const all = known === undefined;
    const existed = await unlinkIfThere(this.layout.message(id));
    // unlink, not rm({force}): rm stats each path first, a second syscall for files that are usually absent.
    if (all || known.state) await unlinkIfThere(this.layout.stateFile(id));
    if (all || known.hold) await unlinkIfThere(this.layout.holdFile(id));
    if (all && existed) await this.syncers.messages.sync();
    return existed;
  }

  async listIds(): Promise<string[]> {
    try {
      return (await readdir(this.layout.messages)).filter((n) => QUEUE_ID.test(n)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }
}

/** Removes a file; one that is not there is not an error (false). */
async function unlinkIfThere(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return false;
  }
}
