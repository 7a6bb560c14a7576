import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';

describe('timeouts of built-in children', () => {
  const text = `
[[milter]]
name = "remote"
connection_spec = "inet:10026@127.0.0.1"

[[milter]]
name = "rules"
builtin = "rules"

[[milter]]
name = "auth"
builtin = "sender-auth"
reading_timeout = 12
`;
  const milters = parseConfig(text, 'mailgate.toml').config.milters;

  it('a built-in child may take 25 s per envelope stage by default (network work such as SPF), under Postfix 30 s', () => {
    expect(milters[1]?.timeouts.reading).toBe(25);
    // The auth filter's SPF check (check_timeout 20 s, explanation included) fits in it.
    expect(milters[1]?.timeouts.endOfMessage).toBe(297);
  });

  it('a remote child keeps milter-manager defaults, and a value written in the file wins', () => {
    expect(milters[0]?.timeouts.reading).toBe(7);
    expect(milters[2]?.timeouts.reading).toBe(12);
  });
});
