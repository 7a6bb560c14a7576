/**
 * Remote delivery against Postfix's smtp-sink as the remote MX, found through the DNS stub or named by
 * relay_host; and the remotes that go wrong: refused, 4xx greeting, 4xx/5xx at RCPT, a close at end of data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport } from '../../src/delivery/transport.js';
import { startDnsStub, type DnsStub } from '../interop/harness/dns-stub.js';
import { freePort } from '../interop/harness/ports.js';
import { setupGuard } from '../interop/harness/setup-guard.js';
import { hangGuard } from '../hang-guard.js';
import { startSink, type Sink } from './peers.js';
import { noAccounts, request } from './request.js';

const setup = setupGuard();
let dns: DnsStub;
let sink: Sink;
let port: number;
/** A second smtp-sink on the same port of 127.0.0.3 that greets with 421 (smtp-sink -Q connect). */
let busy: Sink;
const sinks: Sink[] = [];

beforeAll(() =>
  setup.run(async () => {
    sink = await startSink();
    port = sink.port;
    busy = await startSink(['-Q', 'connect'], '127.0.0.3', port);
    sinks.push(sink, busy);
    dns = await startDnsStub({
      'remote.test': { MX: [{ exchange: 'mx.remote.test', priority: 10 }] },
      'mx.remote.test': { A: ['127.0.0.1'] },
      'backup.test': { MX: [{ exchange: 'down.backup.test', priority: 5 }, { exchange: 'busy.backup.test', priority: 7 }, { exchange: 'up.backup.test', priority: 10 }] },
      'down.backup.test': { A: ['127.0.0.2'] },
      'busy.backup.test': { A: ['127.0.0.3'] },
      'up.backup.test': { A: ['127.0.0.1'] },
      'implicit.test': { A: ['127.0.0.1'] },
      'nullmx.test': { MX: [{ exchange: '.', priority: 0 }] },
      'broken.test': { behaviour: 'servfail' },
      'mute.test': { behaviour: 'silent' },
      'relay.test': { MX: [{ exchange: 'mx.relay.test', priority: 1 }] },
      'mx.relay.test': { A: ['127.0.0.1'] },
    });
  }),
);
afterAll(async () => {
  await Promise.all(sinks.map((s) => s.stop()));
  await dns?.close();
});

const transportFor = (extra: Parameters<typeof createTransport>[0] = {}) =>
  createTransport({ dnsServers: [dns.server], smtpPort: port, hostname: 'mailgate.test', connectTimeout: 5, commandTimeout: 10, ...extra }, noAccounts);

describe('remote delivery to smtp-sink', () => {
  it('finds the MX through DNS and delivers, with BODY=8BITMIME and per-recipient DSN parameters', async () => {
    setup.check();
    const before = (await sink.messages()).length;
    const t = transportFor();
    const req = request([
      { address: 'alice@remote.test', original: 'alice@remote.test', notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;alice@remote.test' },
      { address: 'bob@remote.test', original: 'bob@remote.test', notify: 'NEVER' },
    ], undefined, { envid: 'ENV-1' });
    const results = await t.deliver(req);
    await t.close();
    expect(results.map((r) => r.status)).toEqual(['delivered', 'delivered']);
    expect(results[0]).toMatchObject({ address: 'alice@remote.test', enhanced: '2.0.0', relay: `mx.remote.test[127.0.0.1]:${port}` });
    expect(results[0]?.remoteReply).toMatch(/^250 /);
    const dump = (await sink.waitForMessages(before + 1)).at(-1) as string;
    expect(dump).toMatch(/X-Mail-Args: .*BODY=8BITMIME/);
    expect(dump).toMatch(/X-Mail-Args: .*ENVID=ENV-1/);
    expect(dump).toContain('X-Rcpt-Args: <alice@remote.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;alice@remote.test');
    expect(dump).toContain('X-Rcpt-Args: <bob@remote.test> NOTIFY=NEVER');
    expect(dump).toContain('X-Helo-Args: mailgate.test');
    expect(dump).toContain('\n.dot line'); // dot-stuffing undone by the sink: the body arrived as it was
    expect(dns.queries).toContain('remote.test MX');
  });

  it('goes through relay_host [host]:port without looking anything up', async () => {
    setup.check();
    const asked = dns.queries.length;
    const t = transportFor({ relayHost: `[127.0.0.1]:${port}` });
    const results = await t.deliver(request(['carol@anywhere.example']));
    await t.close();
    expect(results[0]).toMatchObject({ status: 'delivered', relay: `127.0.0.1[127.0.0.1]:${port}` });
    expect(dns.queries.length).toBe(asked);
  });

  it('looks up the MX of relay_host host:port', async () => {
    setup.check();
    const t = transportFor({ relayHost: `relay.test:${port}` });
    const results = await t.deliver(request(['dave@anywhere.example']));
    await t.close();
    expect(results[0]).toMatchObject({ status: 'delivered', relay: `mx.relay.test[127.0.0.1]:${port}` });
    expect(dns.queries).toContain('relay.test MX');
    expect(dns.queries).not.toContain('anywhere.example MX');
  });

  it('skips an MX that refuses the connection and one that greets with 421, and delivers to the next', async () => {
    setup.check();
    const t = transportFor();
    const results = await t.deliver(request(['erin@backup.test']));
    await t.close();
    expect(results[0]).toMatchObject({ status: 'delivered', relay: `up.backup.test[127.0.0.1]:${port}` });
  });

  it('uses the A record when there is no MX, fails a null MX (5.1.10), defers on SERVFAIL (4.4.3), fails an unknown domain (5.4.4)', async () => {
    setup.check();
    const t = transportFor();
    const results = await t.deliver(request(['f@implicit.test', 'g@nullmx.test', 'h@broken.test', 'i@nowhere.test']));
    await t.close();
    expect(results.map((r) => [r.address, r.status, r.enhanced])).toEqual([
      ['f@implicit.test', 'delivered', '2.0.0'],
      ['g@nullmx.test', 'failed', '5.1.10'],
      ['h@broken.test', 'deferred', '4.4.3'],
      ['i@nowhere.test', 'failed', '5.4.4'],
    ]);
  });

  it('fails an internationalized address when the remote does not offer SMTPUTF8 (5.6.7), and still sends the rest', async () => {
    setup.check();
    const t = transportFor();
    const results = await t.deliver(request(['jürgen@remote.test', 'kim@remote.test']));
    await t.close();
    expect(results.map((r) => [r.status, r.enhanced])).toEqual([
      ['failed', '5.6.7'],
      ['delivered', '2.0.0'],
    ]);
  });

  it('defers (4.4.3) when the DNS server does not answer, within the DNS timeout', async () => {
    setup.check();
    const t = transportFor({ dnsTimeout: 0.3 });
    const guard = hangGuard(1200);
    const results = await t.deliver(request(['x@mute.test']));
    guard();
    await t.close();
    expect(results[0]).toMatchObject({ status: 'deferred', enhanced: '4.4.3' });
  });

  it('defers when every MX is down (connection refused, 4.4.1)', async () => {
    setup.check();
    const closed = await freePort();
    const t = transportFor({ smtpPort: closed });
    const guard = hangGuard(5000);
    const results = await t.deliver(request(['x@remote.test']));
    guard();
    await t.close();
    expect(results[0]).toMatchObject({ status: 'deferred', enhanced: '4.4.1' });
    expect(results[0]?.diagnostic).toBe(`connect to mx.remote.test[127.0.0.1]:${closed}: Connection refused`);
  });
});

describe('remote replies from smtp-sink', () => {
  const own: Sink[] = [];
  afterAll(async () => {
    await Promise.all(own.map((s) => s.stop()));
  });
  const deliverVia = async (flags: string[], to: string[]) => {
    setup.check();
    const s = await startSink(flags);
    own.push(s);
    const t = transportFor({ relayHost: `[127.0.0.1]:${s.port}` });
    const results = await t.deliver(request(to));
    await t.close();
    return results;
  };

  it('4xx at RCPT: deferred with the remote reply', async () => {
    const [r] = await deliverVia(['-r', 'rcpt'], ['a@remote.test']);
    expect(r).toMatchObject({ status: 'deferred' });
    expect(r?.enhanced).toMatch(/^4\./);
    expect(r?.remoteReply).toMatch(/^4\d\d /);
    expect(r?.diagnostic).toMatch(/^host 127\.0\.0\.1\[127\.0\.0\.1\] said: 4\d\d .*\(in reply to RCPT TO command\)$/);
  });

  it('5xx at RCPT: failed with the remote reply', async () => {
    const [r] = await deliverVia(['-f', 'rcpt'], ['a@remote.test']);
    expect(r).toMatchObject({ status: 'failed' });
    expect(r?.enhanced).toMatch(/^5\./);
    expect(r?.remoteReply).toMatch(/^5\d\d /);
  });

  it('5xx at end of data: failed for every recipient', async () => {
    const results = await deliverVia(['-f', '.'], ['a@remote.test', 'b@remote.test']);
    expect(results.map((r) => r.status)).toEqual(['failed', 'failed']);
    expect(results[0]?.diagnostic).toMatch(/in reply to end of DATA command/);
  });

  it('a close without a reply at end of data: deferred (4.4.2), no hang', async () => {
    const guard = hangGuard(10_000);
    const results = await deliverVia(['-q', '.'], ['a@remote.test', 'b@remote.test']);
    guard();
    expect(results.map((r) => [r.status, r.enhanced])).toEqual([
      ['deferred', '4.4.2'],
      ['deferred', '4.4.2'],
    ]);
    expect(results[0]?.diagnostic).toMatch(/lost connection with 127\.0\.0\.1\[127\.0\.0\.1\]/);
  });

  it('421 at MAIL FROM: deferred', async () => {
    const results = await deliverVia(['-Q', 'mail'], ['a@remote.test']);
    expect(results[0]).toMatchObject({ status: 'deferred' });
    expect(results[0]?.remoteReply ?? results[0]?.diagnostic).toMatch(/421|lost connection/);
  });
});
