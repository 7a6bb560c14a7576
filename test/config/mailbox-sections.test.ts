/** The mailbox server's configuration: [imap] and [mailbox] ([pop3] is read the same way as [imap]). */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { formatConfig } from '../../src/config/format.js';
import { embeddedDefaults, parseConfig } from '../../src/config/load.js';

const F = '/etc/mailgate/mailgate.toml';

function errorOf(text: string): string {
  try {
    parseConfig(text, F);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('[imap] and [mailbox]', () => {
  it('read every key with its line', () => {
    const loaded = parseConfig(
      `[imap]
listen = ["0.0.0.0:143"]
tls_listen = ["0.0.0.0:993", "[::]:993"]
plaintext_auth_networks = []
connection_limit = 500
client_connection_limit = 20
user_connection_limit = 5
auth_failure_limit = 2
login_timeout = 30
idle_timeout = 2700
idle_keepalive = 60
append_limit = 52428800
max_line_length = 16384
greeting = "Hello there."
[mailbox]
quota = 1073741824
quota_messages = 100000
`,
      F,
    );
    expect(loaded.config.imap).toStrictEqual({
      listen: [{ host: '0.0.0.0', port: 143 }],
      tlsListen: [
        { host: '0.0.0.0', port: 993 },
        { host: '::', port: 993 },
      ],
      plaintextAuthNetworks: [],
      connectionLimit: 500,
      clientConnectionLimit: 20,
      userConnectionLimit: 5,
      authFailureLimit: 2,
      loginTimeout: 30,
      idleTimeout: 2700,
      idleKeepalive: 60,
      appendLimit: 52428800,
      maxLineLength: 16384,
      greeting: 'Hello there.',
    });
    expect(loaded.config.mailbox).toStrictEqual({ quota: 1073741824, quotaMessages: 100000 });
    expect(loaded.origins.get('imap.greeting')).toBe(`${F}:14`);
    expect(loaded.origins.get('mailbox.quota_messages')).toBe(`${F}:17`);
  });

  it('default to loopback 2143/2993, Dovecot\'s limits and no quota', () => {
    const { config } = embeddedDefaults('/srv');
    expect(config.imap.listen).toStrictEqual([{ host: '127.0.0.1', port: 2143 }]);
    expect(config.imap.tlsListen).toStrictEqual([{ host: '127.0.0.1', port: 2993 }]);
    expect(config.imap.plaintextAuthNetworks).toStrictEqual(['127.0.0.0/8', '::1/128']);
    expect(config.imap).toMatchObject({ userConnectionLimit: 10, idleTimeout: 1800, maxLineLength: 65536, appendLimit: 10240000 });
    expect(config.pop3.listen).toStrictEqual([{ host: '127.0.0.1', port: 2110 }]);
    expect(config.mailbox).toStrictEqual({ quota: 0, quotaMessages: 0 });
    const shown = formatConfig(embeddedDefaults('/srv'));
    expect(shown).toContain('[imap]\n# default\nlisten = ["127.0.0.1:2143"]\n');
    expect(shown).toContain('[mailbox]\n# default\nquota = 0\n');
  });

  it('refuse what a mailbox server cannot honour, naming the file and line', () => {
    expect(errorOf('[imap]\nidle_timeout = 60\n')).toContain('at least 1800 seconds');
    expect(errorOf('[imap]\nmax_line_length = 100\n')).toMatch(/max_line_length/);
    expect(errorOf('[imap]\ngreeting = "a [b]"\n')).toContain('without [ or ]');
    expect(errorOf('[imap]\nlisten = ["127.0.0.1:143", "127.0.0.1:143"]\n')).toContain('listed twice');
    expect(errorOf('[imap]\nplaintext_auth_networks = ["10.0.0.0/33"]\n')).toMatch(/plaintext_auth_networks/);
    expect(errorOf('[imap]\nlisen = []\n')).toMatch(/lisen/);
    expect(errorOf('[mailbox]\nquota = -1\n')).toMatch(/quota/);
    expect(errorOf('[mailbox]\nquota = -1\n')).toContain(`${F}:2`);
  });
});
