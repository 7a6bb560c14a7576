/**
 * Every stage of our SMTP server through a real Chain: the chain's verdicts become SMTP replies (Postfix's
 * defaults for a bare reject and tempfail, a filter's own code and text otherwise, discard answered with
 * 250 and nothing queued), the macros Postfix sends reach the filters, and the chain's changes (headers,
 * recipients, sender, quarantine) are applied before the Spool sees the message; a real libmilter filter
 * (pymilter) as a remote child.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Chain, type ChildDefinition } from '../../src/chain/chain.js';
import { ReloadableChain } from '../../src/chain/reloadable.js';
import { defineFilter, type StageHandlers } from '../../src/mail/define-filter.js';
import type { Action } from '../../src/mail/filter.js';
import { CONTINUE, DISCARD, REJECT, TEMPFAIL, reject, type Reply } from '../../src/mail/reply.js';
import { MilterClient } from '../../src/milter/client.js';
import { inetEndpoint, libmilterSpec } from '../interop/harness/endpoint.js';
import { startPyMilter, type PyMilter } from '../interop/harness/pymilter.js';
import { RawClient } from './raw-client.js';
import { startServer, swaks, type Started } from './harness.js';

const ACTIONS: Action[] = ['addHeader', 'changeHeader', 'changeBody', 'addRecipient', 'deleteRecipient', 'changeSender', 'quarantine'];

function child(name: string, handlers: () => StageHandlers): ChildDefinition {
  return { name, filter: defineFilter(name, { actions: ACTIONS }, handlers), fallbackStatus: 'accept', evaluationMode: false, conditions: [] };
}

let started: Started | undefined;
let milter: PyMilter | undefined;
afterEach(async () => {
  await started?.close();
  started = undefined;
  await milter?.stop();
  milter = undefined;
});

const send = (to = 'alice@example.org', extra: string[] = []) =>
  swaks(started!.port('mx'), ['--from', 'x@remote.example', '--to', to, '--header', 'Subject: chain', ...extra]);

describe('chain verdicts as SMTP replies', () => {
  const at = (stage: 'mail' | 'rcpt' | 'endOfMessage', reply: Reply) => () =>
    stage === 'endOfMessage' ? { endOfMessage: () => ({ reply, changes: [] }) } : { [stage]: () => reply };

  it('a bare reject at RCPT is 550 5.7.1 Command rejected, logged as a reject', async () => {
    started = await startServer({ children: [child('r', at('rcpt', REJECT))] });
    const r = await send();
    expect(r.stdout).toContain('550 5.7.1 Command rejected');
    expect(started.logs.some((l) => /^NOQUEUE: milter-reject: RCPT from unknown\[127\.0\.0\.1\]: 550 5\.7\.1 Command rejected; from=<x@remote\.example> to=<alice@example\.org>/.test(l))).toBe(true);
  });

  it('a reject at connect is the greeting, and the connection ends', async () => {
    started = await startServer({ children: [child('c', () => ({ connect: () => reject(554, '5.7.1', 'Go away') }))] });
    const c = await RawClient.open(started.port('mx'));
    expect((await c.reply())![0]).toBe('554 5.7.1 Go away');
    expect(await c.reply()).toBeUndefined();
    c.close();
    expect(started.logs).toContain('NOQUEUE: milter-reject: CONNECT from unknown[127.0.0.1]: 554 5.7.1 Go away; proto=SMTP');
  });

  it('a reject at HELO is the reply to EHLO', async () => {
    started = await startServer({ children: [child('h', () => ({ helo: () => REJECT }))] });
    const c = await RawClient.open(started.port('mx'));
    await c.reply();
    expect(await c.command('EHLO client.test')).toBe('550 5.7.1 Command rejected');
    expect(await c.command('MAIL FROM:<x@remote.example>')).toMatch(/^503 /);
    c.close();
    expect(started.spool.messages).toHaveLength(0);
  });

  it('a tempfail at DATA is the reply to DATA: no 354, the message is never sent', async () => {
    started = await startServer({ children: [child('d', () => ({ data: () => TEMPFAIL }))] });
    const c = await RawClient.open(started.port('mx'));
    await c.reply();
    await c.command('EHLO client.test');
    await c.command('MAIL FROM:<x@remote.example>');
    await c.command('RCPT TO:<alice@example.org>');
    expect(await c.command('DATA')).toBe('451 4.7.1 Service unavailable - try again later');
    expect(await c.command('RSET')).toMatch(/^250 /);
    c.close();
    expect(started.spool.messages).toHaveLength(0);
  });

  it('a bare tempfail at MAIL is 451 4.7.1', async () => {
    started = await startServer({ children: [child('t', at('mail', TEMPFAIL))] });
    const r = await send();
    expect(r.stdout).toContain('451 4.7.1 Service unavailable - try again later');
  });

  it("a filter's own code and text are sent as given", async () => {
    started = await startServer({ children: [child('c', at('endOfMessage', reject(554, '5.7.0', 'Spam detected')))] });
    const r = await send();
    expect(r.stdout).toContain('554 5.7.0 Spam detected');
    expect(started.spool.messages).toHaveLength(0);
  });

  it('discard at end of message is answered 250 and nothing is queued', async () => {
    started = await startServer({ children: [child('d', at('endOfMessage', DISCARD))] });
    const r = await send();
    expect(r.exitCode, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/250 2\.0\.0 Ok: queued as 4TEST/);
    expect(started.spool.messages).toHaveLength(0);
  });

  it('accept at MAIL stops asking the chain for that message', async () => {
    const seen: string[] = [];
    started = await startServer({
      children: [
        child('a', () => ({
          mail: () => ({ status: 'accept' }),
          rcpt: () => (seen.push('rcpt'), CONTINUE),
          endOfMessage: () => (seen.push('eom'), { reply: CONTINUE, changes: [{ kind: 'addHeader', name: 'X-Never', value: 'x' }] }),
        })),
      ],
    });
    const r = await send();
    expect(r.exitCode, r.stdout).toBe(0);
    expect(seen).toEqual([]);
    expect(started.spool.messages[0]!.data.toString()).not.toContain('X-Never');
  });
});

describe('no [[milter]]', () => {
  it('with no child and an accept fallback, no chain session is opened and the mail is queued', async () => {
    started = await startServer();
    const open = vi.spyOn(started.chain, 'open');
    const r = await send();
    expect(r.exitCode, r.stdout).toBe(0);
    expect(open).not.toHaveBeenCalled();
    expect(started.spool.messages).toHaveLength(1);
  });

  it('follows a reload: a chain that gains a child is opened again', () => {
    const reloadable = new ReloadableChain(new Chain([], { fallbackStatus: 'accept' }));
    expect(reloadable.passThrough).toBe(true);
    reloadable.replace(new Chain([child('m', () => ({}))], { fallbackStatus: 'accept' }));
    expect(reloadable.passThrough).toBe(false);
  });

  it('with no child and a tempfail fallback, the chain still answers every connection (nothing is skipped)', async () => {
    started = await startServer({ fallbackStatus: 'tempfail' });
    const c = await RawClient.open(started.port('mx'));
    expect((await c.reply())![0]).toMatch(/^4/);
    c.close();
    expect(started.spool.messages).toHaveLength(0);
  });
});

describe('message boundaries', () => {
  it('the chain hears abort for a message ended by RSET, and end of message for the next one', async () => {
    const seen: string[] = [];
    started = await startServer({
      children: [
        child('b', () => ({
          mail: (s) => (seen.push(`mail ${s}`), CONTINUE),
          abort: () => void seen.push('abort'),
          endOfMessage: () => (seen.push('eom'), { reply: CONTINUE, changes: [] }),
        })),
      ],
    });
    const c = await RawClient.open(started.port('mx'));
    await c.reply();
    await c.command('EHLO client.test');
    await c.command('MAIL FROM:<one@remote.example>');
    await c.command('RCPT TO:<alice@example.org>');
    await c.command('RSET');
    await c.command('MAIL FROM:<two@remote.example>');
    await c.command('RCPT TO:<alice@example.org>');
    await c.command('DATA');
    expect(await c.command('Subject: two\r\n\r\nx\r\n.')).toMatch(/^250 /);
    c.close();
    expect(seen).toEqual(['mail <one@remote.example>', 'abort', 'mail <two@remote.example>', 'eom']);
  });
});

describe('macros', () => {
  it("gives the filters Postfix's macros at each stage", async () => {
    const m: Record<string, Record<string, string | undefined>> = {};
    const names = ['j', '{daemon_name}', '{client_addr}', '{client_name}', '{client_port}', '{if_addr}', '_', 'i', '{auth_type}', '{auth_authen}', '{mail_addr}', '{rcpt_addr}', '{rcpt_mailer}', '{tls_version}', '{cipher}'];
    const take = (stage: string, ctx: { macros: { get(n: string): string | undefined } }) => {
      m[stage] = Object.fromEntries(names.map((n) => [n, ctx.macros.get(n)]));
    };
    started = await startServer({
      children: [
        child('m', () => ({
          connect: (_i, ctx) => (take('connect', ctx), CONTINUE),
          mail: (_s, _a, ctx) => (take('mail', ctx), CONTINUE),
          rcpt: (_r, _a, ctx) => (take('rcpt', ctx), CONTINUE),
          endOfMessage: (ctx) => (take('eom', ctx), { reply: CONTINUE, changes: [] }),
        })),
      ],
    });
    const r = await swaks(started.port('submission'), ['--tls', '--auth', 'PLAIN', '--auth-user', 'alice@example.org', '--auth-password', 'secret', '--from', 'alice@example.org', '--to', 'bob@example.org']);
    expect(r.exitCode, r.stdout).toBe(0);
    const id = started.spool.messages[0]!.id;
    expect(m['connect']).toMatchObject({ j: 'mx.test', '{daemon_name}': 'ORIGINATING', '{client_addr}': '127.0.0.1', '{client_name}': 'unknown', '{if_addr}': '127.0.0.1', _: 'unknown [127.0.0.1]' });
    expect(Number(m['connect']!['{client_port}'])).toBeGreaterThan(0);
    expect(m['mail']).toMatchObject({ i: id, '{auth_type}': 'PLAIN', '{auth_authen}': 'alice@example.org', '{mail_addr}': 'alice@example.org' });
    expect(m['mail']!['{tls_version}']).toMatch(/^TLSv1\.[23]$/);
    expect(m['rcpt']).toMatchObject({ '{rcpt_addr}': 'bob@example.org', '{rcpt_mailer}': 'local' });
    expect(m['eom']).toMatchObject({ i: id });
  });
});

describe("the chain's changes, applied before the Spool", () => {
  it('header edits land below our Received, which stays on top', async () => {
    started = await startServer({
      children: [
        child('h', () => ({
          endOfMessage: () => ({
            reply: CONTINUE,
            changes: [
              { kind: 'addHeader', name: 'X-Added', value: 'yes' },
              { kind: 'changeHeader', index: 1, name: 'Subject', value: '[tagged] chain' },
              { kind: 'insertHeader', index: 1, name: 'X-First', value: 'below-received' },
            ],
          }),
        })),
      ],
    });
    const r = await send();
    expect(r.exitCode, r.stdout).toBe(0);
    const text = started.spool.messages[0]!.data.toString();
    const lines = text.split('\r\n');
    expect(lines[0]).toMatch(/^Received: from client\.test /);
    expect(text).toMatch(/\r\nX-First: below-received\r\n/);
    expect(text.indexOf('X-First')).toBeLessThan(text.indexOf('Date:'));
    expect(text).toContain('\r\nSubject: [tagged] chain\r\n');
    expect(text).toMatch(/X-Added: yes\r\n\r\n/);
  });

  it('recipients a filter adds or deletes change the envelope; a new sender and a quarantine are kept', async () => {
    started = await startServer({
      children: [
        child('e', () => ({
          endOfMessage: () => ({
            reply: CONTINUE,
            changes: [
              { kind: 'deleteRecipient', recipient: '<alice@example.org>' },
              { kind: 'addRecipient', recipient: '<team@example.org>' },
              { kind: 'changeSender', sender: '<bounces@example.org>' },
              { kind: 'quarantine', reason: 'looks odd' },
            ],
          }),
        })),
      ],
    });
    const r = await send('alice@example.org,bob@example.org');
    expect(r.exitCode, r.stdout).toBe(0);
    const m = started.spool.messages[0]!;
    expect(m.sender).toBe('bounces@example.org');
    expect(m.hold).toBe('looks odd');
    // bob as given; team expanded (alice, bob once, carol).
    expect(m.recipients.map((x) => x.address)).toEqual(['bob@example.org', 'alice@example.org', 'carol@remote.example']);
  });

  it('a real libmilter filter (pymilter) as a child adds its header', async () => {
    const ep = await inetEndpoint();
    milter = await startPyMilter({ spec: libmilterSpec(ep) });
    const remote: ChildDefinition = {
      name: 'pymilter',
      filter: new MilterClient({ spec: libmilterSpec(ep) }),
      fallbackStatus: 'tempfail',
      evaluationMode: false,
      conditions: [],
    };
    started = await startServer({ children: [remote, child('b', () => ({ endOfMessage: () => ({ reply: CONTINUE, changes: [{ kind: 'addHeader', name: 'X-Builtin', value: '1' }] }) }))] });
    const r = await send();
    expect(r.exitCode, r.stdout).toBe(0);
    const text = started.spool.messages[0]!.data.toString();
    expect(text).toContain('\r\nX-PyMilter: seen\r\n');
    expect(text).toContain('\r\nX-Builtin: 1\r\n');
    expect(text.startsWith('Received: ')).toBe(true);
  });
});
