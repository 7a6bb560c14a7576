/** The MTA's configuration: hostname, [smtp], [submission], [tls], [domains], [queue], [delivery]. */
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { defaultHostname } from '../../src/config/defaults.js';
import { ConfigError } from '../../src/config/errors.js';
import { formatConfig } from '../../src/config/format.js';
import { embeddedDefaults, parseConfig } from '../../src/config/load.js';

const F = '/etc/mailgate/mailgate.toml';

const EVERY_KEY = `hostname = "Mail.Example.org"
[smtp]
listen = ["0.0.0.0:25", "[::]:25"]
mynetworks = ["192.0.2.0/24"]
message_size_limit = 52428800
recipient_limit = 50
client_connection_limit = 10
connection_limit = 20
client_message_rate_limit = 120
idle_timeout = 60
session_timeout = 600
xclient_hosts = ["127.0.0.1"]
auth_failure_limit = 5
banner = "ready"
[submission]
listen = ["0.0.0.0:587"]
tls_listen = []
[tls]
cert_file = "tls/fullchain.pem"
key_file = "/etc/ssl/private/mail.key"
[domains]
local = ["Example.org", "example.net"]
[queue]
minimal_backoff_time = 60
maximal_backoff_time = 600
maximal_queue_lifetime = 0
bounce_queue_lifetime = 86400
delay_warning_time = 14400
queue_run_delay = 120
[delivery]
relay_host = "[smtp.example.net]:587"
destination_concurrency_limit = 5
lmtp = "unix:run/lmtp.sock"
connect_timeout = 10
smtp_port = 2525
`;

/** The error a text gives, as its one-line message. */
function errorOf(text: string): string {
  try {
    parseConfig(text, F);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error(`no error for:\n${text}`);
}

describe('the MTA sections', () => {
  it('read every key, with its file:line origin', () => {
    const loaded = parseConfig(EVERY_KEY, F);
    const c = loaded.config;
    expect(c.hostname).toBe('Mail.Example.org');
    expect(c.smtp).toStrictEqual({
      listen: [
        { host: '0.0.0.0', port: 25 },
        { host: '::', port: 25 },
      ],
      mynetworks: ['192.0.2.0/24'],
      messageSizeLimit: 52428800,
      recipientLimit: 50,
      clientConnectionLimit: 10,
      connectionLimit: 20,
      clientMessageRateLimit: 120,
      idleTimeout: 60,
      sessionTimeout: 600,
      xclientHosts: ['127.0.0.1'],
      authFailureLimit: 5,
      banner: 'ready',
    });
    expect(c.submission).toStrictEqual({ listen: [{ host: '0.0.0.0', port: 587 }], tlsListen: [] });
    expect(c.tls).toStrictEqual({ certFile: '/etc/mailgate/tls/fullchain.pem', keyFile: '/etc/ssl/private/mail.key' });
    expect(c.domains).toStrictEqual({ local: ['example.org', 'example.net'] });
    expect(c.queue).toStrictEqual({
      minimalBackoffTime: 60,
      maximalBackoffTime: 600,
      maximalQueueLifetime: 0,
      bounceQueueLifetime: 86400,
      delayWarningTime: 14400,
      queueRunDelay: 120,
    });
    expect(c.delivery).toStrictEqual({
      relayHost: { host: 'smtp.example.net', port: 587, mx: false, text: '[smtp.example.net]:587' },
      destinationConcurrencyLimit: 5,
      lmtp: 'unix:/etc/mailgate/run/lmtp.sock',
      connectTimeout: 10,
      smtpPort: 2525,
    });
    expect(loaded.origins.get('hostname')).toBe(`${F}:1`);
    expect(loaded.origins.get('smtp.listen')).toBe(`${F}:3`);
    expect(loaded.origins.get('smtp.banner')).toBe(`${F}:14`);
    expect(loaded.origins.get('submission.tls_listen')).toBe(`${F}:17`);
    expect(loaded.origins.get('delivery.smtp_port')).toBe(`${F}:35`);
  });

  it('default to the embedded values: loopback MX 2525, submission 2587 and 2465, localhost, Postfix\'s timings', () => {
    const { config, origins } = embeddedDefaults('/srv');
    expect(config.dataDir).toBe('/srv/data');
    expect(config.hostname).toBe(hostname().includes('.') ? hostname() : `${hostname()}.localdomain`);
    expect(config.smtp.listen).toStrictEqual([{ host: '127.0.0.1', port: 2525 }]);
    expect(config.smtp.mynetworks).toStrictEqual(['127.0.0.0/8', '::1/128']);
    expect(config.smtp.messageSizeLimit).toBe(10240000);
    expect(config.smtp.idleTimeout).toBe(300);
    expect(config.submission).toStrictEqual({ listen: [{ host: '127.0.0.1', port: 2587 }], tlsListen: [{ host: '127.0.0.1', port: 2465 }] });
    expect(config.tls).toStrictEqual({});
    expect(config.domains.local).toStrictEqual(['localhost']);
    expect(config.queue).toStrictEqual({
      minimalBackoffTime: 300,
      maximalBackoffTime: 4000,
      maximalQueueLifetime: 432000,
      bounceQueueLifetime: 432000,
      delayWarningTime: 0,
      queueRunDelay: 300,
    });
    expect(config.delivery).toStrictEqual({ destinationConcurrencyLimit: 20, connectTimeout: 30, smtpPort: 25 });
    expect(config.manager.connectionSpec).toBe('inet:10025@[127.0.0.1]');
    expect(origins.size).toBe(0);
    // and a file without these sections gives the same
    const fromFile = parseConfig('[manager]\n', F).config;
    expect({ ...fromFile, dataDir: '' }).toStrictEqual({ ...config, dataDir: '' });
  });

  it('the default hostname is Postfix\'s myhostname: the machine\'s name, qualified with .localdomain when it is not', () => {
    expect(defaultHostname('mx.example.org')).toBe('mx.example.org');
    expect(defaultHostname('vm')).toBe('vm.localdomain');
    expect(defaultHostname('my_box')).toBe('localhost.localdomain');
  });

  it('mynetworks = [] trusts nobody (not the default)', () => {
    expect(parseConfig('[smtp]\nmynetworks = []\n', F).config.smtp.mynetworks).toStrictEqual([]);
  });

  it('relay_host in each of Postfix\'s forms', () => {
    const relay = (text: string) => parseConfig(`[delivery]\nrelay_host = ${JSON.stringify(text)}\n`, F).config.delivery.relayHost;
    expect(relay('[smtp.example.net]:587')).toMatchObject({ host: 'smtp.example.net', port: 587, mx: false });
    expect(relay('[smtp.example.net]')).toMatchObject({ host: 'smtp.example.net', port: 25, mx: false });
    expect(relay('example.net:2525')).toMatchObject({ host: 'example.net', port: 2525, mx: true });
    expect(relay('example.net')).toMatchObject({ host: 'example.net', port: 25, mx: true });
    expect(relay('[192.0.2.1]:25')).toMatchObject({ host: '192.0.2.1', port: 25, mx: false });
    expect(relay('[2001:db8::1]:587')).toMatchObject({ host: '2001:db8::1', port: 587, mx: false });
  });

  it('refuse unknown keys and bad values with file:line and key', () => {
    expect(errorOf('[smtp]\nlistn = ["127.0.0.1:25"]\n')).toBe(`${F}:2: smtp.listn: unknown key "listn" in [smtp]; did you mean listen?`);
    expect(errorOf('[smtp]\nlisten = ["127.0.0.1"]\n')).toMatch(new RegExp(`^${F}:2: smtp\\.listen\\[0\\]: "127\\.0\\.0\\.1" is not HOST:PORT`));
    expect(errorOf('[smtp]\nlisten = ["127.0.0.1:0"]\n')).toContain('port "0" is not a number from 1 to 65535');
    expect(errorOf('[smtp]\nlisten = ["::1:25"]\n')).toContain('is not HOST:PORT');
    expect(errorOf('[smtp]\nlisten = ["a:25", "A:25"]\n')).toContain('smtp.listen[1]: "A:25" is listed twice');
    expect(errorOf('[smtp]\nlisten = "127.0.0.1:25"\n')).toContain('smtp.listen: expected an array, got a string');
    expect(errorOf('\n[smtp]\nmynetworks = ["10.0.0.0/33"]\n')).toBe(`${F}:3: smtp.mynetworks[0]: "10.0.0.0/33": prefix length "33" is not a number from 0 to 32`);
    expect(errorOf('[smtp]\nxclient_hosts = ["nobody"]\n')).toContain('smtp.xclient_hosts[0]: "nobody" is not an IP address');
    expect(errorOf('[smtp]\nrecipient_limit = 0\n')).toContain('smtp.recipient_limit: must be at least 1, got 0');
    expect(errorOf('[smtp]\nmessage_size_limit = 1.5\n')).toContain('expected an integer');
    expect(errorOf('[smtp]\nidle_timeout = 0\n')).toContain('smtp.idle_timeout: must be greater than 0');
    expect(errorOf('[smtp]\nsession_timeout = 3000000\n')).toContain('must be at most 2147483 s');
    expect(errorOf('[smtp]\nbanner = "a\\nb"\n')).toContain('smtp.banner: must be one line');
    expect(errorOf('[submission]\ntls_listen = ["[127.0.0.1]:465"]\n')).toContain('"[127.0.0.1]" is not an IPv6 address');
    expect(errorOf('[tls]\ncert_file = "a.pem"\n')).toBe(`${F}:2: tls.cert_file: cert_file needs key_file too (or leave both out for a self-signed certificate)`);
    expect(errorOf('[tls]\nkey_file = "a.key"\n')).toContain('tls.key_file: key_file needs cert_file too');
    expect(errorOf('[domains]\nlocal = ["user@example.org"]\n')).toContain('domains.local[0]: "user@example.org" is not a domain name');
    expect(errorOf('[domains]\nlocal = ["example.org."]\n')).toContain('is not a domain name');
    expect(errorOf('[domains]\nlocal = ["a.org", "A.org"]\n')).toContain('domains.local[1]: "A.org" is listed twice');
    expect(errorOf('hostname = "mail_1"\n')).toBe(`${F}:1: hostname: "mail_1" is not a host name (e.g. "mail.example.org")`);
    expect(errorOf('[queue]\nminimal_backoff_time = 5000\n')).toBe(`${F}:2: queue.minimal_backoff_time: minimal_backoff_time (5000) is longer than maximal_backoff_time (4000)`);
    expect(errorOf('[queue]\nmaximal_backoff_time = 60\n')).toContain('queue.maximal_backoff_time: minimal_backoff_time (300) is longer');
    expect(errorOf('[queue]\ndelay_warning_time = -1\n')).toContain('must be at least 0');
    expect(errorOf('[queue]\nqueue_run_delay = 0\n')).toContain('must be greater than 0');
    expect(errorOf('[delivery]\nrelay_host = "192.0.2.1:25"\n')).toBe(
      `${F}:2: delivery.relay_host: "192.0.2.1:25": an IP address must be in brackets ("[192.0.2.1]:25"): without them Postfix looks up MX records`,
    );
    expect(errorOf('[delivery]\nrelay_host = "[smtp.example.net]:smtp"\n')).toContain('port "smtp" is not a number from 1 to 65535');
    expect(errorOf('[delivery]\nrelay_host = "smtp example"\n')).toContain('is not a host name');
    expect(errorOf('[delivery]\nrelay_host = ""\n')).toContain('must not be empty');
    expect(errorOf('[delivery]\nlmtp = "tcp:24"\n')).toContain('delivery.lmtp: connection spec "tcp:24": unknown type "tcp"');
    expect(errorOf('[delivery]\nlmtp = "inet:24"\n')).toContain('name the host too');
    expect(errorOf('[delivery]\ndestination_concurrency_limit = 0\n')).toContain('must be at least 1');
    expect(errorOf('[delivery]\nsmtp_port = 70000\n')).toContain('delivery.smtp_port: must be at most 65535');
    expect(errorOf('smtp = 1\n')).toContain('smtp: expected a table [smtp], got an integer');
  });

  it('show-config prints every key with its origin, and reads back to the same configuration', () => {
    const loaded = parseConfig(EVERY_KEY, F);
    const printed = formatConfig(loaded);
    for (const [key, line] of [
      ['hostname = "Mail.Example.org"', 1],
      ['listen = ["0.0.0.0:25", "[::]:25"]', 3],
      ['connection_limit = 20', 8],
      ['tls_listen = []', 17],
      ['relay_host = "[smtp.example.net]:587"', 31],
      ['local = ["example.org", "example.net"]', 22],
    ] as const) {
      expect(printed).toContain(`# ${F}:${line}\n${key}\n`);
    }
    expect(parseConfig(printed, '/etc/mailgate/printed.toml').config).toStrictEqual(loaded.config);

    const defaults = formatConfig(embeddedDefaults('/srv'));
    expect(defaults).toContain('[smtp]\n# default\nlisten = ["127.0.0.1:2525"]\n# default\nmynetworks = ["127.0.0.0/8", "::1/128"]\n');
    expect(defaults).toContain('[submission]\n# default\nlisten = ["127.0.0.1:2587"]\n# default\ntls_listen = ["127.0.0.1:2465"]\n');
    expect(defaults).toContain('# cert_file and key_file not set: a self-signed certificate in /srv/data/tls\n# default\n# cert_file is not set\n');
    expect(defaults).toContain('[domains]\n# default\nlocal = ["localhost"]\n');
    expect(defaults).toContain('# default\n# relay_host is not set\n');
    expect(defaults).toContain('# default\nmaximal_queue_lifetime = 432000\n');
  });
});
