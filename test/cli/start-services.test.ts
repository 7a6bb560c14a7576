/** startMta: the order services are built and stopped in, and nothing left running when a step fails. */
import { describe, expect, it } from 'vitest';
import { startMta, StartError, type ServiceFactories } from '../../src/cli/start-services.js';
import { defaultConfig } from '../../src/config/defaults.js';
import type { Filter } from '../../src/mail/filter.js';
import { silentLogger } from '../../src/mail/logger.js';

const chain = { name: 'chain', open: () => ({}) } as unknown as Filter;
const tls = { cert: Buffer.from('cert'), key: Buffer.from('key') };

/** Fakes that record every call in `log`; `fail` names a step that throws. */
function fakes(log: string[], fail?: 'listen' | 'openQueue' | 'pop3'): ServiceFactories {
  return {
    openAccounts: (o) => {
      log.push(`accounts ${o.dataDir} ${o.localDomains.join(',')}`);
      return {
        isLocalDomain: () => true,
        localDomains: () => [],
        resolve: () => ({ kind: 'unknown' }),
        authenticate: () => Promise.resolve(undefined),
        mayUseSender: () => false,
        maildirOf: (u) => u,
        quotaOf: () => undefined,
        close: () => void log.push('accounts closed'),
      };
    },
    openMailboxStore: (o, accounts) => {
      log.push(`mailboxes ${o.hostname} quota=${o.quota} append_limit=${o.appendLimit} maildirOf=${typeof accounts.maildirOf}`);
      return {
        openUser: () => Promise.reject(new Error('not in this test')),
        delivery: { deliver: () => Promise.reject(new Error('not in this test')) },
        close: () => Promise.resolve(void log.push('mailboxes closed')),
      };
    },
    createImapServer: (c, d) => {
      log.push(`imap listen=${c.listen.length}+${c.tlsListen.length} store=${typeof d.store.openUser} tls=${d.tls === tls}`);
      return { listen: () => Promise.resolve(void log.push('imap listening')), close: (g) => Promise.resolve(void log.push(`imap closed grace=${g}ms`)) };
    },
    createPop3Server: (c, d) => {
      log.push(`pop3 listen=${c.listen.length}+${c.tlsListen.length} store=${typeof d.store.openUser}`);
      return {
        listen: () => (fail === 'pop3' ? Promise.reject(new Error('listen EADDRINUSE: address already in use 127.0.0.1:2110')) : Promise.resolve(void log.push('pop3 listening'))),
        close: (g) => Promise.resolve(void log.push(`pop3 closed grace=${g}ms`)),
      };
    },
    createTransport: (o, accounts) => {
      log.push(`transport relay=${o.relayHost?.text ?? 'none'} concurrency=${o.destinationConcurrencyLimit} accounts=${typeof accounts.resolve} mailboxes=${typeof o.mailboxes?.deliver}`);
      return { deliver: () => Promise.resolve([]), close: (g) => Promise.resolve(void log.push(`transport closed ${g === undefined ? 'unbounded' : g <= 10_000 ? 'bounded' : g}`)) };
    },
    openQueue: (o) => {
      if (fail === 'openQueue') throw new Error('queue directory is not writable');
      log.push(`queue backoff=${o.minimalBackoffTime}-${o.maximalBackoffTime} transport=${typeof o.transport.deliver}`);
      return {
        newId: () => '0000000001',
        enqueue: () => Promise.resolve(),
        start: () => Promise.resolve(void log.push('queue started')),
        stop: () => Promise.resolve(void log.push('queue stopped')),
      };
    },
    createSmtpServer: (o, d) => {
      log.push(`smtp ${o.hostname} listen=${o.smtp.listen.length} chain=${d.chain === chain} spool=${typeof d.spool.enqueue}`);
      return {
        listen: () => (fail === 'listen' ? Promise.reject(new Error('listen EADDRINUSE: address already in use 127.0.0.1:2525')) : Promise.resolve(void log.push('smtp listening'))),
        close: (grace) => Promise.resolve(void log.push(`smtp closed grace=${grace}`)),
      };
    },
  };
}

describe('startMta', () => {
  const config = { ...defaultConfig(), dataDir: '/srv/data', hostname: 'mx.example.org' };

  // Review finding (issue 11): SMTP, IMAP and POP3 each counted failed logins apart: one attacker got thrice the tries.
  it('gives SMTP AUTH, IMAP and POP3 one failed-login count', async () => {
    const seen: unknown[] = [];
    const f = fakes([]);
    const mta = await startMta(config, { chain, tls, logger: silentLogger }, {
      ...f,
      createSmtpServer: (o, d) => (seen.push(d.authFailures), f.createSmtpServer(o, d)),
      createImapServer: (c, d) => (seen.push(d.authFailures), f.createImapServer(c, d)),
      createPop3Server: (c, d) => (seen.push(d.authFailures), f.createPop3Server(c, d)),
    });
    expect(seen).toHaveLength(3);
    expect(seen[0]).toBeDefined();
    expect(seen[1]).toBe(seen[0]);
    expect(seen[2]).toBe(seen[0]);
    await mta.stop(0);
  });

  it('builds accounts, mailboxes, transport, queue (started), then the SMTP, IMAP and POP3 listeners; stops the listeners first, then the rest in reverse', async () => {
    const log: string[] = [];
    const mta = await startMta(config, { chain, tls, logger: silentLogger }, fakes(log));
    expect(log).toEqual([
      'accounts /srv/data localhost',
      'mailboxes mx.example.org quota=0 append_limit=10240000 maildirOf=function',
      'transport relay=none concurrency=20 accounts=function mailboxes=function',
      'queue backoff=300-4000 transport=function',
      'queue started',
      'smtp mx.example.org listen=1 chain=true spool=function',
      'smtp listening',
      'imap listen=1+1 store=function tls=true',
      'imap listening',
      'pop3 listen=1+1 store=function',
      'pop3 listening',
    ]);
    log.length = 0;
    await mta.stop(30);
    expect(log).toEqual([
      'smtp closed grace=30',
      'imap closed grace=30000ms',
      'pop3 closed grace=30000ms',
      'queue stopped',
      'transport closed bounded',
      'mailboxes closed',
      'accounts closed',
    ]);
  });

  it('tells the transport where we listen ([smtp] and [submission]), for its mail-loop check', async () => {
    const log: string[] = [];
    let own: unknown;
    const base = fakes(log);
    const listening = {
      ...config,
      smtp: { ...config.smtp, listen: [{ host: '127.0.0.1', port: 2525 }] },
      submission: { ...config.submission, listen: [{ host: '::1', port: 2587 }], tlsListen: [] },
    };
    const mta = await startMta(listening, { chain, tls, logger: silentLogger }, {
      ...base,
      createTransport: (o, a) => {
        own = o.ownAddresses;
        return base.createTransport(o, a);
      },
    });
    await mta.stop(0);
    expect(own).toEqual([
      { host: '127.0.0.1', port: 2525 },
      { host: '::1', port: 2587 },
    ]);
  });

  it('a listener that cannot bind: what started is stopped, and one StartError says why', async () => {
    const log: string[] = [];
    const err = await startMta(config, { chain, tls, logger: silentLogger }, fakes(log, 'listen')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartError);
    expect((err as Error).message).toBe('listen EADDRINUSE: address already in use 127.0.0.1:2525');
    expect(log.slice(-4)).toEqual(['queue stopped', 'transport closed bounded', 'mailboxes closed', 'accounts closed']);
  });

  it('a POP3 listener that cannot bind: SMTP and IMAP are closed again too', async () => {
    const log: string[] = [];
    const err = await startMta(config, { chain, tls, logger: silentLogger }, fakes(log, 'pop3')).catch((e: unknown) => e);
    expect((err as Error).message).toBe('listen EADDRINUSE: address already in use 127.0.0.1:2110');
    expect(log.slice(-6)).toEqual(['imap closed grace=0ms', 'smtp closed grace=0', 'queue stopped', 'transport closed bounded', 'mailboxes closed', 'accounts closed']);
  });

  it('a queue that cannot open: the transport and accounts are closed again', async () => {
    const log: string[] = [];
    await expect(startMta(config, { chain, tls, logger: silentLogger }, fakes(log, 'openQueue'))).rejects.toThrow('queue directory is not writable');
    expect(log.slice(-3)).toEqual(['transport closed bounded', 'mailboxes closed', 'accounts closed']);
  });
});
