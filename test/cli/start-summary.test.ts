/** What `mailgate start` prints: where each service listens, and the next two commands. */
import { describe, expect, it } from 'vitest';
import { sectionsNeedingRestart } from '../../src/cli/start.js';
import { formatStartSummary, type StartSummary } from '../../src/cli/start-summary.js';
import { embeddedDefaults, parseConfig } from '../../src/config/load.js';

const base = (over: Partial<StartSummary> = {}): StartSummary => ({
  config: { ...embeddedDefaults('/srv').config, hostname: 'mx.example.org' },
  file: undefined,
  certFile: '/srv/data/tls/cert.pem',
  selfSigned: true,
  certCreated: true,
  children: [],
  command: 'mailgate',
  ...over,
});

describe('formatStartSummary', () => {
  it('the embedded defaults: the three SMTP listeners, the milter, then user add and a swaks line to the MX', () => {
    const text = formatStartSummary(base());
    expect(text).toContain('Mailgate is running as mx.example.org (embedded defaults: no configuration file).');
    expect(text).toMatch(/MX \(SMTP\) +127\.0\.0\.1:2525\n/);
    expect(text).toMatch(/submission \(STARTTLS, AUTH\) +127\.0\.0\.1:2587\n/);
    expect(text).toMatch(/submission \(implicit TLS\) +127\.0\.0\.1:2465\n/);
    expect(text).toContain('inet:10025@[127.0.0.1]   (main.cf: smtpd_milters = inet:127.0.0.1:10025)');
    expect(text).toContain('/srv/data/tls/cert.pem (self-signed for mx.example.org, made now)');
    expect(text).toContain('\n  mailgate user add alice@localhost\n  swaks --server 127.0.0.1 --port 2525 --from you@example.org --to alice@localhost\n');
    expect(text).toMatch(/IMAP \(STARTTLS\) \/ IMAPS +127\.0\.0\.1:2143 \/ 127\.0\.0\.1:2993\n/);
    expect(text).toMatch(/POP3 \(STLS\) \/ POP3S +127\.0\.0\.1:2110 \/ 127\.0\.0\.1:2995\n/);
    expect(text).toContain('and read it with a mail client: IMAP at 127.0.0.1:2143, user alice@localhost\n');
  });

  it('IMAP off: the mail is read over POP3; both off: no reading line', () => {
    const popOnly = parseConfig('[imap]\nlisten = []\ntls_listen = []\n[pop3]\nlisten = ["[::]:110"]\n', '/x.toml').config;
    expect(formatStartSummary(base({ config: popOnly }))).toContain('and read it with a mail client: POP3 at [::1]:110, user alice@localhost\n');
    const none = parseConfig('[imap]\nlisten = []\ntls_listen = []\n[pop3]\nlisten = []\ntls_listen = []\n', '/x.toml').config;
    const text = formatStartSummary(base({ config: none }));
    expect(text).not.toContain('read it with');
    expect(text).toMatch(/IMAP \(STARTTLS\) \/ IMAPS +off \/ off\n/);
  });

  it('with a file: --config in the user command, the first local domain, a wildcard listener reached on loopback', () => {
    const { config } = parseConfig('[smtp]\nlisten = ["0.0.0.0:25"]\n[domains]\nlocal = ["example.org"]\n[delivery]\nrelay_host = "[smtp.example.net]:587"\n', '/etc/mailgate/mailgate.toml');
    const text = formatStartSummary(base({ config, file: '/etc/mailgate/mailgate.toml', command: 'npx mailgate', certCreated: false, children: ['greylist'] }));
    expect(text).toContain('  npx mailgate user add alice@example.org --config /etc/mailgate/mailgate.toml\n');
    expect(text).toContain('  swaks --server 127.0.0.1 --port 25 --from you@example.org --to alice@example.org\n');
    expect(text).toContain('remote mail through relay_host [smtp.example.net]:587');
    expect(text).toMatch(/filters +greylist\n/);
    expect(text).not.toContain('made now');
  });

  it('no MX listener: the test mail goes through submission with STARTTLS and AUTH', () => {
    const { config } = parseConfig('[smtp]\nlisten = []\n', '/x.toml');
    const text = formatStartSummary(base({ config }));
    expect(text).toMatch(/MX \(SMTP\) +off\n/);
    expect(text).toContain('swaks --server 127.0.0.1 --port 2587 --tls --auth-user alice@localhost --from alice@localhost --to alice@localhost');
  });
});

describe('sectionsNeedingRestart', () => {
  it('names the MTA sections that changed, not the chain', () => {
    const a = parseConfig('', '/x.toml').config;
    const b = parseConfig('[smtp]\nlisten = ["127.0.0.1:25"]\n[queue]\nqueue_run_delay = 60\n[[milter]]\nname = "r"\nbuiltin = "rules"\n', '/x.toml').config;
    expect(sectionsNeedingRestart(a, b)).toEqual(['[smtp]', '[queue]']);
    expect(sectionsNeedingRestart(a, a)).toEqual([]);
  });
});

describe('the milter listener of mailgate start', () => {
  it('runs on the embedded default and with a file only when the file has a [manager] section', async () => {
    const { milterListenerWanted } = await import('../../src/cli/start.js');
    expect(milterListenerWanted(embeddedDefaults('/tmp'))).toBe(true);
    expect(milterListenerWanted(parseConfig('[smtp]\nlisten = ["127.0.0.1:25"]\n', '/x.toml'))).toBe(false);
    expect(milterListenerWanted(parseConfig('[manager]\nconnection_spec = "inet:10026@[127.0.0.1]"\n', '/x.toml'))).toBe(true);
    expect(milterListenerWanted(parseConfig('[manager]\nmax_connections = 10\n', '/x.toml'))).toBe(true);
  });

  it('says so in the summary when it is off', () => {
    const loaded = parseConfig('[smtp]\nlisten = ["127.0.0.1:25"]\n', '/x.toml');
    const text = formatStartSummary({ config: loaded.config, file: '/x.toml', certFile: '/c', selfSigned: true, certCreated: false, children: [], command: 'mailgate', milterListener: false });
    expect(text).toMatch(/milter for Postfix +off /);
    expect(text).not.toContain('smtpd_milters');
  });
});
