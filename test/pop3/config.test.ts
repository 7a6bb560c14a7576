// The [pop3] section: every key read as written, defaults when absent, errors with file and line.
import { describe, expect, it } from 'vitest';
import { DEFAULT_POP3 } from '../../src/config/defaults.js';
import { ConfigError } from '../../src/config/errors.js';
import { formatConfig } from '../../src/config/format.js';
import { parseConfig } from '../../src/config/load.js';

const F = '/etc/mailgate/mailgate.toml';

describe('[pop3]', () => {
  it('reads every key', () => {
    const loaded = parseConfig(
      `[pop3]
listen = ["0.0.0.0:110", "[::]:110"]
tls_listen = ["0.0.0.0:995"]
plaintext_auth_networks = ["127.0.0.0/8", "192.0.2.0/24"]
connection_limit = 500
client_connection_limit = 10
auth_failure_limit = 5
idle_timeout = 900
`,
      F,
    );
    expect(loaded.config.pop3).toEqual({
      listen: [
        { host: '0.0.0.0', port: 110 },
        { host: '::', port: 110 },
      ],
      tlsListen: [{ host: '0.0.0.0', port: 995 }],
      plaintextAuthNetworks: ['127.0.0.0/8', '192.0.2.0/24'],
      connectionLimit: 500,
      clientConnectionLimit: 10,
      authFailureLimit: 5,
      idleTimeout: 900,
    });
    // show-config prints the section with where each value came from.
    expect(formatConfig(loaded)).toMatch(/\[pop3\]\n# \/etc\/mailgate\/mailgate\.toml:2\nlisten = \["0\.0\.0\.0:110", "\[::\]:110"\]/);
  });

  it('defaults to the embedded ports 2110/2995 on loopback, and [] turns a listener off', () => {
    expect(parseConfig('', F).config.pop3).toEqual(DEFAULT_POP3);
    expect(parseConfig('[pop3]\nlisten = []\n', F).config.pop3.listen).toEqual([]);
  });

  it('refuses unknown keys, bad networks, a timeout under RFC 1939 ten minutes, limits below their minimum', () => {
    for (const [text, problem] of [
      ['[pop3]\nlistem = []\n', /listem/],
      ['[pop3]\nplaintext_auth_networks = ["300.0.0.0/8"]\n', /300\.0\.0\.0/],
      ['[pop3]\nidle_timeout = 60\n', /at least 600 seconds/],
      ['[pop3]\nauth_failure_limit = 0\n', /auth_failure_limit/],
      ['[pop3]\nlisten = ["127.0.0.1:110", "127.0.0.1:110"]\n', /listed twice/],
    ] as const) {
      expect(() => parseConfig(text, F)).toThrow(ConfigError);
      expect(() => parseConfig(text, F)).toThrow(problem);
    }
  });
});
