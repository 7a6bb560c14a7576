/** The example configuration from the issue, and helpers shared by the config tests. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';

export const EXAMPLE = `[manager]
connection_spec = "unix:/run/mailgate/milter.sock"   # or inet:10025@[127.0.0.1]
unix_socket_mode = "0660"
unix_socket_group = "postfix"
fallback_status = "accept"

[[milter]]
name = "opendkim"
connection_spec = "unix:/run/opendkim/opendkim.sock"
enabled = true
fallback_status = "accept"
evaluation_mode = false
applicable_conditions = ["Remote Network", "Unauthenticated"]
connection_timeout = 297
writing_timeout = 7
reading_timeout = 7
end_of_message_timeout = 297
`;

/** A directory holding trusted-domains.txt (example.net and one /regex/), for [trust] domains_file. */
export const TRUST_DIR = mkdtempSync(join(tmpdir(), 'mailgate-trust-'));
export const TRUSTED_DOMAINS_FILE = join(TRUST_DIR, 'trusted-domains.txt');
export const TRUSTED_DOMAINS = ['example.net', /^mx\d+\./i];
writeFileSync(TRUSTED_DOMAINS_FILE, '# friends\nExample.NET\n/^mx\\d+\\./\n');

/** The ConfigError parseConfig throws for `text` (fails the test when it does not throw one). */
export function configError(text: string, file = 'mailgate.toml'): ConfigError {
  try {
    parseConfig(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError, but the configuration was accepted');
}
