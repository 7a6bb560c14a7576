// A real libmilter filter (pymilter) that edits the envelope, as a child of `mailgate start`'s chain: the
// MTA must queue what the filter left, as Postfix does (recipients a milter adds bypass the RCPT checks and
// go where the address leads; the sender it sets is the bounce address; a quarantined message is held).
//
//   swaks → mailgate start (MX) → envelope pymilter (by Subject: redirect / hold) → Maildir or hold queue
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMta, type Mta } from './harness/mta.js';
import { libmilterSpec, parseSpec, unixEndpoint, waitListening } from './harness/endpoint.js';
import { setupGuard } from './harness/setup-guard.js';
import { Teardown } from './harness/teardown.js';
import { makeTempDir } from './harness/tmpdir.js';
import { describeResult, startDaemon, waitFor, LIBMILTER_STOP_GRACE_MS, type Daemon } from './harness/process.js';
import { swaksRaw as swaks } from './harness/swaks.js';

/** At end of message, by Subject: "redirect" moves the mail from alice to carol and changes the sender; "hold" quarantines. */
const ENVELOPE_PY = `
import sys
import Milter

class Envelope(Milter.Base):
    def envfrom(self, f, *args):
        self.subject = ""
        return Milter.CONTINUE
    def header(self, name, value):
        if name.lower() == "subject":
            self.subject = value
        return Milter.CONTINUE
    def eom(self):
        if self.subject == "redirect":
            self.delrcpt("<alice@localhost>")
            self.addrcpt("<carol@localhost>")
            self.chgfrom("<bounces@localhost>")
            self.addheader("X-Redirected", "alice to carol")
        elif self.subject == "hold":
            self.quarantine("held by the envelope milter")
        return Milter.CONTINUE

Milter.factory = Envelope
Milter.set_flags(Milter.ADDHDRS | Milter.ADDRCPT | Milter.DELRCPT | Milter.CHGFROM | Milter.QUARANTINE)
print("envelope pymilter on %s" % sys.argv[1], flush=True)
Milter.runmilter("mailgate-envelope", sys.argv[1], timeout=60, rmsock=True)
`;


describe('mailgate start with a milter that edits the envelope', { timeout: 90_000 }, () => {
  const td = new Teardown();
  const setup = setupGuard();
  let mta: Mta;
  let milter: Daemon;

  beforeAll(() =>
    setup.run(async () => {
      const tmp = await makeTempDir('mta-envelope');
      td.defer(() => tmp.remove());
      const spec = libmilterSpec(unixEndpoint(tmp.path, 'envelope.sock'));
      const script = join(tmp.path, 'envelope_milter.py');
      await writeFile(script, ENVELOPE_PY);
      milter = startDaemon('envelope pymilter', '/usr/bin/python3', ['-u', script, spec]);
      td.defer(() => milter.stop(LIBMILTER_STOP_GRACE_MS));
      await waitListening(parseSpec(spec), 'envelope pymilter', { daemon: milter, timeoutMs: 15_000 });
      mta = await makeMta({ mynetworks: [], extra: `[[milter]]\nname = "envelope"\nconnection_spec = "${spec}"\n` });
      td.defer(() => mta.remove());
      await mta.addUser('alice@localhost', 'alice-password-1');
      await mta.addUser('carol@localhost', 'carol-password-1');
      await mta.addUser('bounces@localhost', 'bounces-password-1');
      await mta.start();
    }),
  );
  afterAll(() => td.run());

  const diagnostics = async (): Promise<string> => `--- mailgate ---\n${mta.daemon().output().slice(-6000)}\n--- pymilter ---\n${milter.output()}`;

  it('delrcpt/addrcpt/chgfrom: the message goes to carol only, with the new sender as Return-Path', async () => {
    setup.check();
    const r = await swaks(['--server', `127.0.0.1:${mta.mxPort}`, '--from', 'someone@example.org', '--to', 'alice@localhost', '--header', 'Subject: redirect']);
    expect(r.stdout, describeResult(r)).toMatch(/<- {2}250 2\.0\.0 Ok: queued as/);
    const [msg = ''] = await waitFor('the message in carol\'s Maildir', async () => {
      const m = await mta.maildir('carol@localhost');
      return m.length > 0 ? m : undefined;
    }, { timeoutMs: 20_000, diagnostics });
    expect(msg).toMatch(/^X-Redirected: alice to carol$/m);
    expect(msg).toMatch(/^Return-Path: <bounces@localhost>$/m);
    expect(await mta.maildir('alice@localhost')).toHaveLength(0);
  });

  it('quarantine: the message is held, not delivered; `mailgate queue release` then delivers it', async () => {
    setup.check();
    const r = await swaks(['--server', `127.0.0.1:${mta.mxPort}`, '--from', 'someone@example.org', '--to', 'alice@localhost', '--header', 'Subject: hold']);
    const id = /queued as ([0-9A-Z]+)/.exec(r.stdout)?.[1];
    expect(id, describeResult(r)).toBeDefined();
    const list = await waitFor('the held message in the queue', async () => {
      const q = await mta.cli(['queue', 'list']);
      return q.stdout.includes(id ?? '?') ? q : undefined;
    }, { timeoutMs: 10_000, diagnostics });
    expect(list.stdout, describeResult(list)).toMatch(new RegExp(`${id}!?`));
    await new Promise((res) => setTimeout(res, 1_000));
    expect((await mta.maildir('alice@localhost')).some((m) => m.includes('Subject: hold'))).toBe(false);
    const rel = await mta.cli(['queue', 'release', id ?? '']);
    expect(rel.exitCode, describeResult(rel)).toBe(0);
    const msgs = await waitFor('the released message in alice\'s Maildir', async () => {
      const m = await mta.maildir('alice@localhost');
      return m.some((x) => x.includes('Subject: hold')) ? m : undefined;
    }, { timeoutMs: 20_000, diagnostics });
    expect(msgs.length).toBeGreaterThan(0);
  });
});
