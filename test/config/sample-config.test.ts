/** The sample /etc/mailgate/mailgate.toml shipped in contrib/ loads with the project's own loader, and shows every key. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, TOP_LEVEL_KEYS } from '../../src/config/load.js';
import { DELIVERY_KEYS } from '../../src/config/sections/delivery.js';
import { DOMAINS_KEYS } from '../../src/config/sections/domains.js';
import { MANAGER_KEYS } from '../../src/config/sections/manager.js';
import { QUEUE_KEYS } from '../../src/config/sections/queue.js';
import { SMTP_KEYS } from '../../src/config/sections/smtp.js';
import { SUBMISSION_KEYS } from '../../src/config/sections/submission.js';
import { IMAP_KEYS } from '../../src/config/sections/imap.js';
import { MAILBOX_KEYS } from '../../src/config/sections/mailbox.js';
import { POP3_KEYS } from '../../src/config/sections/pop3.js';
import { TLS_KEYS } from '../../src/config/sections/tls.js';
import { REMOTE_NETWORK_KEYS, S25R_KEYS, STRESS_KEYS, TRUST_KEYS } from '../../src/config/sections/options.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const sample = join(root, 'contrib/mailgate.toml');
const text = readFileSync(sample, 'utf8');

/** A key written in the sample, set or commented out (`# key = default`). */
const shows = (key: string): boolean => new RegExp(`^#? ?${key} = `, 'm').test(text);

describe('contrib/mailgate.toml', () => {
  it('loads without error: the manager on Postfix\'s chroot socket, the children in order', () => {
    const { config, warnings } = loadConfig(sample);
    expect(warnings ?? []).toEqual([]);
    expect(config.dataDir).toBe('/var/lib/mailgate');
    expect(config.manager.connectionSpec).toBe('unix:/var/spool/postfix/mailgate/milter.sock');
    expect(config.manager.unixSocketGroup).toBe('postfix');
    expect(config.milters.map((m) => [m.name, m.enabled])).toEqual([
      ['greylist', true],
      ['spamassassin', false],
      ['clamav', false],
      ['opendkim', false],
    ]);
    expect(config.conditions.map((c) => c.name)).toEqual(['Not Submission']);
  });

  it('has every section, each introduced by a comment', () => {
    for (const key of TOP_LEVEL_KEYS) {
      const header = new RegExp(`^\\[{1,2}${key}\\]{1,2}$`, 'm');
      const found = header.exec(text);
      // data_dir (moving to the top level) is a key, not a section.
      if (found === null) {
        expect(shows(key), `section or key ${key}`).toBe(true);
        continue;
      }
      const before = text.slice(0, found.index).trimEnd().split('\n');
      const commentAbove = before.slice(-6).some((l) => l.startsWith('#'));
      expect(commentAbove, `a comment above [${key}]`).toBe(true);
    }
  });

  it('shows every key of [manager], [s25r], [remote_network], [trust] and [stress], set or as a commented default', () => {
    for (const key of [...MANAGER_KEYS, ...S25R_KEYS, ...REMOTE_NETWORK_KEYS, ...TRUST_KEYS, ...STRESS_KEYS]) {
      expect(shows(key), key).toBe(true);
    }
  });

  it('shows every key of the MTA\'s sections in its own section, each commented out with its default', () => {
    const sections: [string, readonly string[]][] = [
      ['smtp', SMTP_KEYS],
      ['submission', SUBMISSION_KEYS],
      ['imap', IMAP_KEYS],
      ['pop3', POP3_KEYS],
      ['mailbox', MAILBOX_KEYS],
      ['tls', TLS_KEYS],
      ['domains', DOMAINS_KEYS],
      ['queue', QUEUE_KEYS],
      ['delivery', DELIVERY_KEYS],
    ];
    for (const [section, keys] of sections) {
      const start = text.indexOf(`\n[${section}]\n`);
      expect(start, `[${section}]`).toBeGreaterThan(0);
      const body = text.slice(start + section.length + 4).split(/\n\[/)[0] ?? '';
      for (const key of keys) expect(new RegExp(`^# ${key} = `, 'm').test(body), `${section}.${key}`).toBe(true);
    }
    expect(/^# hostname = /m.test(text)).toBe(true);
  });

  it('its commented MTA keys, uncommented, load with the values they show', () => {
    // Every "# key = value" line of the MTA's sections and hostname, made live: the sample documents real values.
    const live = text.replace(/^# ((?:hostname|listen|mynetworks|message_size_limit|recipient_limit|client_\w+|idle_timeout|session_timeout|xclient_hosts|auth_failure_limit|banner|tls_listen|cert_file|key_file|local|\w+_backoff_time|\w+_queue_lifetime|delay_warning_time|queue_run_delay|relay_host|destination_concurrency_limit|lmtp|connect_timeout|smtp_port) = )/gm, '$1');
    const { config } = parseConfig(live, sample, { readTrustDomainsFile: false });
    expect(config.hostname).toBe('mail.example.org');
    expect(config.smtp.listen).toEqual([{ host: '127.0.0.1', port: 2525 }]);
    expect(config.submission.tlsListen).toEqual([{ host: '127.0.0.1', port: 2465 }]);
    expect(config.delivery.relayHost).toEqual({ host: 'smtp.example.net', port: 587, mx: false, text: '[smtp.example.net]:587' });
    expect(config.queue.maximalQueueLifetime).toBe(432000);
    expect(config.tls.certFile).toBe('/etc/letsencrypt/live/mail.example.org/fullchain.pem');
  });
});
