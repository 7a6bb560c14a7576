/**
 * Two IMAP sessions and a third handle (another client's, or delivery) changing one mailbox at random:
 * after each NOOP, the view a client builds from the untagged responses alone (EXISTS, EXPUNGE, FETCH
 * FLAGS) matches the store — the same messages in the same order with the same flags — and a UID FETCH
 * agrees with it. A FETCH test double reports seq → UID (the real FETCH belongs to its own work package).
 */
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SELECTED, command, ok } from '../../src/imap/command.js';
import { atom, list, num } from '../../src/imap/wire/encoder.js';
import type { SequenceSet } from '../../src/imap/wire/sequence-set.js';
import { Env, loggedIn, type Client } from './harness/transcript.js';

const fetchUids = command<SequenceSet>({
  name: 'FETCH',
  states: SELECTED,
  uidForm: true,
  expungeSafe: false,
  parse(args) {
    args.sp();
    return args.sequenceSet();
  },
  run(session, set, info) {
    const sel = session.selected!;
    for (const uid of sel.resolve(set, info.uid))
      if (!sel.isExpungePending(uid)) session.out.untagged([num(sel.seqOf(uid)!), atom('FETCH'), list([atom('UID'), num(uid), atom('FLAGS'), sel.flagsValue(uid)])]);
    return Promise.resolve(ok('Fetch completed.'));
  },
});

/** What a client knows: per sequence number, its flags (UIDs are only learnt through FETCH). */
class ClientView {
  flags: string[][] = [];

  apply(line: string): void {
    let m: RegExpExecArray | null;
    if ((m = /^\* (\d+) EXISTS$/.exec(line))) while (this.flags.length < Number(m[1])) this.flags.push([]);
    else if ((m = /^\* (\d+) EXPUNGE$/.exec(line))) this.flags.splice(Number(m[1]) - 1, 1);
    else if ((m = /^\* (\d+) FETCH \(FLAGS \(([^)]*)\)\)$/.exec(line))) this.flags[Number(m[1]) - 1] = m[2]!.split(' ').filter((f) => f !== '' && f !== '\\Recent');
  }
}

async function exchange(c: Client, view: ClientView | undefined, text: string, tag: string): Promise<string[]> {
  c.send(`${tag} ${text}\r\n`);
  const lines: string[] = [];
  for (let line = await c.line(); !line.startsWith(`${tag} `); line = await c.line()) {
    lines.push(line);
    view?.apply(line);
  }
  return lines;
}

type Op = { kind: 'deliver' } | { kind: 'flag'; pick: number; flag: string; add: boolean } | { kind: 'expunge'; pick: number } | { kind: 'noop'; who: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.constant<Op>({ kind: 'deliver' }),
  fc.record({ kind: fc.constant('flag' as const), pick: fc.nat(20), flag: fc.constantFrom('\\Seen', '\\Flagged', '$Work'), add: fc.boolean() }),
  fc.record({ kind: fc.constant('expunge' as const), pick: fc.nat(20) }),
  fc.record({ kind: fc.constant('noop' as const), who: fc.nat(1) }),
);

describe('two sessions and a third handle', () => {
  it('each session\'s view, built from untagged responses, is the store\'s after NOOP', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const env = new Env({ commands: [fetchUids] });
        const user = await env.store.openUser('alice');
        const other = await user.open('INBOX', 'read-write');
        const deliver = (): Promise<unknown> => env.store.delivery.deliver('alice', () => Readable.from([Buffer.from('Subject: x\n\nx\n')]), { hostname: 'test' });
        await deliver();
        const clients = [await loggedIn(env), await loggedIn(env)];
        const views = [new ClientView(), new ClientView()];
        let n = 0;
        for (let i = 0; i < 2; i++) await exchange(clients[i]!, views[i], 'SELECT INBOX', `s${i}`);
        const storeNow = async (): Promise<{ uid: number; flags: readonly string[] }[]> => (await other.snapshot()).records.map((r) => ({ uid: r.uid, flags: r.flags }));
        for (const o of ops) {
          const current = await storeNow();
          if (o.kind === 'deliver') await deliver();
          else if (o.kind === 'flag' && current.length > 0) {
            await other.setFlags([current[o.pick % current.length]!.uid], { mode: o.add ? 'add' : 'remove', flags: [o.flag] });
          } else if (o.kind === 'expunge' && current.length > 0) {
            const uid = current[o.pick % current.length]!.uid;
            await other.setFlags([uid], { mode: 'add', flags: ['\\Deleted'] });
            await other.expunge([uid]);
          } else if (o.kind === 'noop') await exchange(clients[o.who]!, views[o.who], 'NOOP', `n${n++}`);
        }
        const truth = await storeNow();
        for (let i = 0; i < 2; i++) {
          await exchange(clients[i]!, views[i], 'NOOP', `z${i}`);
          expect(views[i]!.flags.length).toBe(truth.length);
          const fetched = await exchange(clients[i]!, undefined, 'UID FETCH 1:*', `f${i}`);
          const uids = fetched.map((l) => Number(/UID (\d+)/.exec(l)![1]));
          expect(uids).toEqual(truth.map((t) => t.uid));
          // Flags learnt from updates (messages whose flags the client saw change) agree with the store.
          views[i]!.flags.forEach((f, k) => {
            if (f.length > 0) expect([...f].sort()).toEqual([...truth[k]!.flags].sort());
          });
        }
        await other.close();
        await env.close();
      }),
      { numRuns: 60 },
    );
  });
});
