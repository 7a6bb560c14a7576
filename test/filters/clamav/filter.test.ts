/**
 * The clamav filter against a REAL clamd (private, offline, one EICAR .ndb body signature), and
 * against fake clamd servers on loopback for the failures. A clamd that cannot start FAILS every
 * test here (setupGuard), it never skips.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FULL_OFFER } from '../../../src/mail/capabilities.js';
import type { Action } from '../../../src/mail/filter.js';
import { EICAR, EICAR_VIRUS_NAME, startClamd, type Clamd } from '../../interop/harness/clamd.js';
import { setupGuard } from '../../interop/harness/setup-guard.js';
import { Teardown } from '../../interop/harness/teardown.js';
import { context } from '../../milter/helpers.js';
import { clamavFilter, drive, messages, plainHeaders, recordingLogger } from './drive.js';
import { deadTcpAddress, replyWith, startFakeClamd } from './fake-clamd.js';
import { hangGuard } from '../../hang-guard.js';

const LIMITS = { timeout: 60_000 };
const EICAR_BODY = `Hello,\r\n\r\n${EICAR}\r\n`;

describe('clamav filter with a real clamd', LIMITS, () => {
  const td = new Teardown();
  const setup = setupGuard();
  let clamd: Clamd;
  let small: Clamd;
  let quick: Clamd;
  beforeAll(() =>
    setup.run(async () => {
      clamd = td.add(await startClamd({ tcp: true }));
      small = td.add(await startClamd({ config: ['StreamMaxLength 1K'] }));
      quick = td.add(await startClamd({ config: ['ReadTimeout 1', 'CommandReadTimeout 1'] }));
    }),
  );
  afterAll(() => td.run());

  /** Options for the real clamd plus `extra` TOML lines. */
  const toml = (extra = ''): string => `clamd = "unix:${clamd.socketPath}"\nreport_hostname = "mx.test"\n${extra}`;
  const run = async (extra: string, m: Parameters<typeof drive>[1] = {}) => {
    setup.check();
    const log = recordingLogger();
    const out = await drive(clamavFilter(toml(extra), log.logger), m);
    return { ...out, lines: log.lines };
  };

  it('clean mail: continue, X-Virus-Scanned with clamd\'s version and X-Virus-Status: Clean', async () => {
    const { eom } = await run('');
    expect(eom?.reply.status).toBe('continue');
    expect(eom?.changes).toEqual([
      { kind: 'addHeader', name: 'X-Virus-Scanned', value: 'ClamAV 1.4.6 at mx.test' },
      { kind: 'addHeader', name: 'X-Virus-Status', value: 'Clean' },
    ]);
  });

  it('EICAR with on_infected = "reject": 550 5.7.1 with the virus name (default reject_msg)', async () => {
    const { eom, lines } = await run('on_infected = "reject"', { body: EICAR_BODY });
    expect(eom?.reply).toEqual({ status: 'reject', code: 550, enhancedCode: '5.7.1', text: `Virus found: ${EICAR_VIRUS_NAME}` });
    expect(messages(lines)).toEqual([`infected by ${EICAR_VIRUS_NAME}, on_infected reject`]);
    expect(lines.find((l) => l['virus'])?.['queueId']).toBe('QUEUE1');
  });

  it('reject_msg with %v, and reject_msg = "" leaving the text to the MTA', async () => {
    expect((await run('on_infected = "Reject"\nreject_msg = "Infected (%v) - see postmaster"', { body: EICAR_BODY })).eom?.reply).toEqual({
      status: 'reject',
      code: 550,
      enhancedCode: '5.7.1',
      text: `Infected (${EICAR_VIRUS_NAME}) - see postmaster`,
    });
    expect((await run('on_infected = "reject"\nreject_msg = ""', { body: EICAR_BODY })).eom?.reply).toEqual({ status: 'reject' });
  });

  it('EICAR in a base64 attachment is found too (clamd parses the stream as mail)', async () => {
    const boundary = 'b1';
    const headers: Array<[string, string]> = [...plainHeaders('attachment'), ['MIME-Version', '1.0'], ['Content-Type', `multipart/mixed; boundary="${boundary}"`]];
    const body = [
      `--${boundary}`,
      'Content-Type: text/plain',
      '',
      'see attached',
      `--${boundary}`,
      'Content-Type: application/octet-stream; name="eicar.com"',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: attachment; filename="eicar.com"',
      '',
      Buffer.from(EICAR).toString('base64'),
      `--${boundary}--`,
      '',
    ].join('\r\n');
    const { eom } = await run('on_infected = "reject"', { headers, body });
    expect(eom?.reply.status).toBe('reject');
  });

  describe('on_infected modes', () => {
    const infectedHeaders = [
      { kind: 'addHeader', name: 'X-Virus-Scanned', value: 'ClamAV 1.4.6 at mx.test' },
      { kind: 'addHeader', name: 'X-Virus-Status', value: `Infected (${EICAR_VIRUS_NAME})` },
    ];
    it('defer: tempfail', async () => {
      expect((await run('on_infected = "defer"', { body: EICAR_BODY })).eom?.reply.status).toBe('tempfail');
    });
    it('blackhole (and its alias discard): discard', async () => {
      expect((await run('on_infected = "blackhole"', { body: EICAR_BODY })).eom?.reply.status).toBe('discard');
      expect((await run('on_infected = "discard"', { body: EICAR_BODY })).eom?.reply.status).toBe('discard');
    });
    it('quarantine (the default): continue, the headers and a quarantine change', async () => {
      const { eom, caps } = await run('', { body: EICAR_BODY });
      expect(caps.actions.has('quarantine')).toBe(true);
      expect(eom?.reply.status).toBe('continue');
      expect(eom?.changes).toEqual([...infectedHeaders, { kind: 'quarantine', reason: `quarantined by clamav (${EICAR_VIRUS_NAME})` }]);
    });
    it('quarantine when the MTA cannot quarantine: tempfail (clamav-milter defers when smfi_quarantine fails)', async () => {
      const offer = { ...FULL_OFFER, actions: new Set<Action>([...FULL_OFFER.actions].filter((a) => a !== 'quarantine')) };
      const { eom, lines } = await run('', { body: EICAR_BODY, offer });
      expect(eom?.reply.status).toBe('tempfail');
      expect(messages(lines, 40)).toEqual(['cannot quarantine: the MTA did not offer the quarantine action; deferring']);
    });
    it('accept: continue with X-Virus-Status: Infected (NAME)', async () => {
      const { eom } = await run('on_infected = "accept"', { body: EICAR_BODY });
      expect(eom).toEqual({ reply: { status: 'continue' }, changes: infectedHeaders });
    });
  });

  describe('add_header', () => {
    const forged: Array<[string, string]> = [
      ['Received', 'from x by y'],
      ['X-Virus-Scanned', 'forged 1'],
      ['X-Virus-Status', 'Clean'],
      ['Subject', 'forged'],
      ['x-virus-scanned', 'forged 2'],
    ];
    it('replace removes every existing X-Virus-* (last first) before appending', async () => {
      const { eom, caps } = await run('add_header = "replace"', { headers: forged, body: EICAR_BODY });
      expect([...caps.actions].sort()).toEqual(['addHeader', 'changeHeader', 'quarantine']);
      expect(eom?.changes.slice(0, 5)).toEqual([
        { kind: 'changeHeader', index: 2, name: 'X-Virus-Scanned', value: '' },
        { kind: 'changeHeader', index: 1, name: 'X-Virus-Scanned', value: '' },
        { kind: 'changeHeader', index: 1, name: 'X-Virus-Status', value: '' },
        { kind: 'addHeader', name: 'X-Virus-Scanned', value: 'ClamAV 1.4.6 at mx.test' },
        { kind: 'addHeader', name: 'X-Virus-Status', value: `Infected (${EICAR_VIRUS_NAME})` },
      ]);
    });
    it('add inserts both at index 1 and leaves existing ones', async () => {
      const { eom, caps } = await run('add_header = "add"\non_infected = "accept"', { headers: forged });
      expect([...caps.actions]).toEqual(['addHeader']);
      expect(eom?.changes).toEqual([
        { kind: 'insertHeader', index: 1, name: 'X-Virus-Scanned', value: 'ClamAV 1.4.6 at mx.test' },
        { kind: 'insertHeader', index: 1, name: 'X-Virus-Status', value: 'Clean' },
      ]);
    });
    it('no: no header, no header action negotiated, no VERSION asked', async () => {
      const { eom, caps } = await run('add_header = "no"\non_infected = "reject"');
      expect(caps.actions.size).toBe(0);
      expect(eom).toEqual({ reply: { status: 'continue' }, changes: [] });
    });
  });

  it('negotiates only the stages it uses', async () => {
    expect([...(await run('')).caps.stages]).toEqual(['header', 'body', 'endOfMessage']);
    const all = await run('local_net = ["10.0.0.0/8"]\nskip_authenticated = true');
    expect([...all.caps.stages]).toEqual(['connect', 'mail', 'header', 'body', 'endOfMessage']);
    expect(all.caps.macros).toEqual({ mail: ['{auth_authen}'] });
  });

  it('max_file_size: a larger message passes unscanned with one log line', async () => {
    const { eom, lines } = await run('max_file_size = "1K"\non_infected = "reject"', { body: `${EICAR_BODY}${'x'.repeat(2000)}\r\n` });
    expect(eom).toEqual({ reply: { status: 'continue' }, changes: [] });
    expect(messages(lines)).toHaveLength(1);
    expect(messages(lines)[0]).toMatch(/^not scanned: message of \d+ bytes is larger than max_file_size 1024$/);
  });

  it('local_net: clients in it are accepted at connect, others scanned; "local" covers unix clients', async () => {
    const cfg = 'local_net = ["192.0.2.0/24", "2001:db8::/32", "local"]\non_infected = "reject"';
    expect((await run(cfg, { body: EICAR_BODY })).connect?.status).toBe('accept');
    expect((await run(cfg, { body: EICAR_BODY, client: { hostname: 'x', family: 'inet6', address: '::ffff:192.0.2.9' } })).connect?.status).toBe('accept');
    expect((await run(cfg, { body: EICAR_BODY, client: { hostname: 'localhost', family: 'unix', path: '/x' } })).connect?.status).toBe('accept');
    const outside = await run(cfg, { body: EICAR_BODY, client: { hostname: 'x', family: 'inet', address: '198.51.100.7' } });
    expect(outside.connect?.status).toBe('continue');
    expect(outside.eom?.reply.status).toBe('reject');
  });

  it('skip_authenticated: {auth_authen} set (and matching) is accepted at MAIL', async () => {
    expect((await run('skip_authenticated = true', { body: EICAR_BODY, authenticated: 'alice' })).mail?.status).toBe('accept');
    const unauth = await run('skip_authenticated = true\non_infected = "reject"', { body: EICAR_BODY });
    expect(unauth.mail?.status).toBe('continue');
    expect(unauth.eom?.reply.status).toBe('reject');
    const cfg = 'skip_authenticated = "^(alice|bob)$"\non_infected = "reject"';
    expect((await run(cfg, { body: EICAR_BODY, authenticated: 'bob' })).mail?.status).toBe('accept');
    expect((await run(cfg, { body: EICAR_BODY, authenticated: 'mallory' })).eom?.reply.status).toBe('reject');
  });

  it('over TCP, and round-robin with one dead address: every message still scanned', async () => {
    setup.check();
    const dead = await deadTcpAddress();
    const log = recordingLogger();
    const filter = clamavFilter(
      `clamd = ["inet:${dead.type === 'inet' ? dead.port : 0}@127.0.0.1", "inet:${clamd.tcpPort}@127.0.0.1", "unix:${clamd.socketPath}"]\non_infected = "reject"`,
      log.logger,
    );
    for (let i = 0; i < 4; i++) {
      expect((await drive(filter)).eom?.changes[1]).toMatchObject({ value: 'Clean' });
      expect((await drive(filter, { body: EICAR_BODY })).eom?.reply.status).toBe('reject');
    }
    expect(messages(log.lines, 40)).toEqual([expect.stringMatching(/^clamd inet:\d+@127.0.0.1 unreachable \(connect ECONNREFUSED 127.0.0.1:\d+\), skipped for 30 s$/)]);
  });

  for (const keepAlive of [true, false]) {
    it(`keep_alive = ${keepAlive}: message after message through one filter, every verdict right (clean, EICAR, 300 KiB)`, async () => {
      setup.check();
      const filter = clamavFilter(`clamd = "unix:${clamd.socketPath}"\non_infected = "reject"\nkeep_alive = ${keepAlive}`, recordingLogger().logger);
      try {
        for (let i = 0; i < 6; i++) {
          const body = i % 3 === 1 ? EICAR_BODY : i % 3 === 2 ? `${'a line of text to make the message bigger\r\n'.repeat(7500)}${EICAR}\r\n` : 'Hello\r\n';
          const { eom } = await drive(filter, { body });
          expect(eom?.reply.status, `message ${i}`).toBe(i % 3 === 0 ? 'continue' : 'reject');
        }
      } finally {
        await filter.close?.();
      }
    });
  }

  it('50 messages at once through one filter (kept sessions shared by concurrent sessions): every verdict its own', async () => {
    setup.check();
    const filter = clamavFilter(`clamd = "unix:${clamd.socketPath}"\non_infected = "reject"`, recordingLogger().logger);
    try {
      for (let round = 0; round < 2; round++) {
        const outs = await Promise.all(
          Array.from({ length: 50 }, (_, i) => drive(filter, { body: i % 2 === 1 ? EICAR_BODY : `clean message ${i}\r\n` }).then((o) => o.eom?.reply.status)),
        );
        expect(outs).toEqual(Array.from({ length: 50 }, (_, i) => (i % 2 === 1 ? 'reject' : 'continue')));
      }
    } finally {
      await filter.close?.();
    }
  });

  it("a kept session that clamd timed out (ReadTimeout: it says COMMAND READ TIMED OUT and closes): the next message is still scanned, nothing logged", async () => {
    setup.check();
    const log = recordingLogger();
    const filter = clamavFilter(`clamd = "unix:${quick.socketPath}"\non_infected = "reject"`, log.logger);
    try {
      expect((await drive(filter, { body: EICAR_BODY })).eom?.reply.status).toBe('reject');
      await new Promise((r) => setTimeout(r, 2500)); // clamd's ReadTimeout 1 s has closed the idle session
      expect((await drive(filter, { body: EICAR_BODY })).eom?.reply.status).toBe('reject');
      expect((await drive(filter)).eom?.reply.status).toBe('continue');
      expect(messages(log.lines, 40)).toEqual([]);
    } finally {
      await filter.close?.();
    }
  });

  for (const keepAlive of [true, false]) {
    it(`keep_alive = ${keepAlive}: clamd timing out the connection while the message is slow to come (first header to end of message) costs nothing`, async () => {
      setup.check();
      const log = recordingLogger();
      const filter = clamavFilter(`clamd = "unix:${quick.socketPath}"\non_infected = "reject"\nkeep_alive = ${keepAlive}`, log.logger);
      try {
        const s = await filter.open();
        const ctx = context();
        await s.negotiate(FULL_OFFER);
        await s.header!('Subject', 'slow', ctx);
        await new Promise((r) => setTimeout(r, 2500)); // past clamd's CommandReadTimeout / ReadTimeout of 1 s
        await s.body!(Buffer.from(EICAR_BODY), ctx);
        expect((await s.endOfMessage!(ctx)).reply.status).toBe('reject');
        await s.close?.();
        expect(messages(log.lines, 40)).toEqual([]);
      } finally {
        await filter.close?.();
      }
    });
  }

  it("clamd's own size limit (StreamMaxLength 1K): on_fail, with a line saying what to change", async () => {
    setup.check();
    const log = recordingLogger();
    const filter = clamavFilter(`clamd = "unix:${small.socketPath}"\non_fail = "reject"`, log.logger);
    const { eom } = await drive(filter, { body: 'x'.repeat(4 * 1024 * 1024) });
    expect(eom).toEqual({ reply: { status: 'reject' }, changes: [] });
    const warn = messages(log.lines, 40);
    expect(warn).toHaveLength(1);
    // clamd answers and closes while the rest is still being sent: the reply or the broken pipe is what
    // we see first; either way the line names StreamMaxLength.
    expect(warn[0]).toMatch(/size limit exceeded.*StreamMaxLength.*on_fail reject|(EPIPE|ECONNRESET) while sending; clamd does this when a stream exceeds its StreamMaxLength/);
  });
});

describe('clamav filter when clamd misbehaves (fake servers on loopback)', () => {
  const cases: Array<[string, Parameters<typeof startFakeClamd>[0] | 'dead', RegExp]> = [
    ['unreachable', 'dead', /^clamd failed, on_fail \w+: clamd inet:\d+@127.0.0.1: not reachable \(connect ECONNREFUSED 127.0.0.1:\d+\)$/],
    ['garbage reply', replyWith('220 smtp.example.com ESMTP'), /^clamd inet:\S+ gave an unknown reply "220 smtp.example.com ESMTP", on_fail \w+$/],
    ['closes mid-stream', (socket) => socket.destroy(), /^clamd failed, on_fail \w+: .*(without a reply|ECONNRESET|EPIPE)/],
    ['never answers', () => undefined, /^clamd failed, on_fail \w+: .*no answer within 0.3 s$/],
    ['INSTREAM size limit', replyWith('INSTREAM size limit exceeded. ERROR'), /could not scan: INSTREAM size limit exceeded. \(raise StreamMaxLength/],
  ];
  for (const [what, behaviour, logged] of cases) {
    it(`${what}: each on_fail within the timeout, one log line`, async () => {
      const fake = behaviour === 'dead' ? undefined : await startFakeClamd(behaviour);
      try {
        const spec = fake?.spec ?? (await deadTcpAddress());
        const address = spec.type === 'inet' ? `inet:${spec.port}@127.0.0.1` : '';
        for (const [onFail, status] of [
          ['accept', 'continue'],
          ['defer', 'tempfail'],
          ['reject', 'reject'],
        ] as const) {
          const log = recordingLogger();
          const filter = clamavFilter(`clamd = "${address}"\non_fail = "${onFail}"\nread_timeout = 0.3\nconnect_timeout = 0.5`, log.logger);
          const noHang = hangGuard(500);
          const { eom } = await drive(filter);
          noHang();
          expect(eom).toEqual({ reply: { status }, changes: [] });
          const lines = messages(log.lines);
          expect(lines, lines.join('\n')).toHaveLength(1);
          expect(lines[0]).toMatch(logged);
        }
      } finally {
        await fake?.stop();
      }
    });
  }

  it('the default on_fail is defer (tempfail)', async () => {
    const dead = await deadTcpAddress();
    const { eom } = await drive(clamavFilter(`clamd = "inet:${dead.type === 'inet' ? dead.port : 0}@127.0.0.1"`, recordingLogger().logger));
    expect(eom?.reply.status).toBe('tempfail');
  });

  it('a clamd that cannot say its version still scans; the header has no version', async () => {
    const fake = await startFakeClamd((socket, received) => {
      if (received.toString('latin1').startsWith('zVERSION\0')) socket.end('UNKNOWN COMMAND\0');
      else replyWith('stream: OK')(socket, received);
    });
    try {
      const { eom } = await drive(clamavFilter(`clamd = "inet:${fake.spec.type === 'inet' ? fake.spec.port : 0}@127.0.0.1"\nreport_hostname = "h"`, recordingLogger().logger));
      expect(eom?.changes).toContainEqual({ kind: 'addHeader', name: 'X-Virus-Scanned', value: 'ClamAV at h' });
    } finally {
      await fake.stop();
    }
  });
});
