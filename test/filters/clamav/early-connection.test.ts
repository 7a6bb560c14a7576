// clamd is connected to when the message starts (as clamav-milter does), and the scan still works
// when that connection is gone by end of message.
import { afterEach, describe, expect, it } from 'vitest';
import { FULL_OFFER } from '../../../src/mail/capabilities.js';
import { context } from '../../milter/helpers.js';
import { clamavFilter, drive, messages, recordingLogger } from './drive.js';
import { replyWith, startFakeClamd, type FakeClamd } from './fake-clamd.js';

const fakes: FakeClamd[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

const specText = (f: FakeClamd): string => (f.spec.type === 'inet' ? `inet:${f.spec.port}@127.0.0.1` : `unix:${f.spec.path}`);
const until = async (what: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 5));
};

/** A filter session on a fake clamd that has just been given its first header (and has connected). */
async function firstHeaderSent(options = '') {
  const fake = await startFakeClamd(replyWith('stream: OK'));
  fakes.push(fake);
  const filter = clamavFilter(`clamd = "${specText(fake)}"\n${options}`, recordingLogger().logger);
  const s = await filter.open();
  const ctx = context();
  await s.negotiate(FULL_OFFER);
  await s.header!('Subject', 'hi', ctx);
  await until(() => fake.connections > 0);
  return { fake, s, ctx, filter };
}

describe('clamav filter: the clamd connection is opened at the first header', () => {
  it('connects before end of message and scans on that connection', async () => {
    const { fake, s, ctx } = await firstHeaderSent('add_header = "no"');
    expect(fake.connections).toBe(1);
    await s.body!(Buffer.from('hello\r\n'), ctx);
    const eom = await s.endOfMessage!(ctx);
    await s.close?.();
    expect(eom.reply.status).toBe('continue');
    expect(fake.connections).toBe(1);
    expect(fake.scanned).toHaveLength(1);
  });

  it('scans on a new connection when clamd closed the early one while idle', async () => {
    const { fake, s, ctx } = await firstHeaderSent('add_header = "no"');
    // clamd's CommandReadTimeout: an idle connection is closed by the server.
    fake.sockets()[0]?.end();
    await new Promise((r) => setTimeout(r, 50));
    const eom = await s.endOfMessage!(ctx);
    await s.close?.();
    expect(eom.reply.status).toBe('continue');
    expect(fake.connections).toBe(2);
    expect(fake.scanned).toHaveLength(1);
  });

  it('an aborted message closes its connection (keep_alive = false); nothing is left open', async () => {
    const { fake, s, ctx } = await firstHeaderSent('keep_alive = false');
    await s.abort!(ctx);
    await s.close?.();
    await until(() => fake.sockets().length === 0);
    expect(fake.sockets()).toHaveLength(0);
  });

  it('an aborted message gives its unused session back (keep_alive); the next message uses it; close() ends it', async () => {
    const { fake, s, ctx, filter } = await firstHeaderSent('add_header = "no"');
    await s.abort!(ctx);
    await s.close?.();
    const out = await drive(filter);
    expect(out.eom?.reply.status).toBe('continue');
    expect([fake.connections, fake.sessions]).toEqual([1, 1]);
    await filter.close?.();
    await until(() => fake.sockets().length === 0);
    expect(fake.sockets()).toHaveLength(0);
  });

  it('messages over the replay limit still fail over from dead addresses to a live one', async () => {
    // As clamd does in a session: answer, and keep the connection open.
    const live = await startFakeClamd(replyWith('stream: OK', { close: false }));
    fakes.push(live);
    const deadAddresses: string[] = [];
    for (let i = 0; i < 2; i++) {
      const dead = await startFakeClamd(replyWith('stream: OK'));
      deadAddresses.push(specText(dead));
      await dead.stop();
    }
    const rec = recordingLogger();
    const filter = clamavFilter(`clamd = ["${deadAddresses[0]}", "${deadAddresses[1]}", "${specText(live)}"]\nadd_header = "no"\non_fail = "defer"`, rec.logger);
    const body = Buffer.alloc(2 * 1024 * 1024, 0x61);
    for (let i = 0; i < 4; i++) expect((await drive(filter, { body })).eom?.reply.status, `message ${i} ${JSON.stringify(messages(rec.lines, 30))}`).toBe('continue');
    // Each dead address was set aside once, with one line; later messages went straight to the live one.
    const unreachable = expect.stringMatching(/^clamd inet:\d+@127.0.0.1 unreachable \(connect ECONNREFUSED/);
    expect(messages(rec.lines, 40)).toEqual([unreachable, unreachable]);
    await filter.close?.();
  });

  it('the only clamd refusing before end of message: one log line, on_fail', async () => {
    const log = recordingLogger();
    const dead = await startFakeClamd(replyWith('stream: OK'));
    const address = specText(dead);
    await dead.stop();
    const filter = clamavFilter(`clamd = "${address}"\non_fail = "defer"`, log.logger);
    const s = await filter.open();
    const ctx = context();
    await s.negotiate(FULL_OFFER);
    await s.header!('Subject', 'hi', ctx);
    await new Promise((r) => setTimeout(r, 50)); // the refusal is known before end of message
    await s.body!(Buffer.from('hello\r\n'), ctx);
    expect((await s.endOfMessage!(ctx)).reply.status).toBe('tempfail');
    await s.close?.();
    expect(messages(log.lines, 40)).toEqual([expect.stringMatching(/^clamd failed, on_fail defer: .*ECONNREFUSED/)]);
  });

  it('a message through drive() still gives one log line when clamd is unreachable', async () => {
    const log = recordingLogger();
    const fake = await startFakeClamd(replyWith('stream: OK'));
    const address = specText(fake);
    await fake.stop();
    const filter = clamavFilter(`clamd = "${address}"\non_fail = "accept"`, log.logger);
    const out = await drive(filter);
    expect(out.eom?.reply.status).toBe('continue');
    expect(messages(log.lines, 40)).toHaveLength(1);
  });
});
