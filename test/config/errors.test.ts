import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { configError, EXAMPLE } from './fixtures.js';

/** EXAMPLE with line `n` (1-based) replaced by `text`. */
function withLine(n: number, text: string): string {
  const lines = EXAMPLE.split('\n');
  lines[n - 1] = text;
  return lines.join('\n');
}

describe('ConfigError', () => {
  it('formats as file:line: key: reason', () => {
    const e = new ConfigError('"acept" is not one of accept, tempfail, reject, discard', {
      file: 'mailgate.toml',
      line: 12,
      key: 'milter[1].fallback_status',
    });
    expect(e.toString()).toBe('mailgate.toml:12: milter[1].fallback_status: "acept" is not one of accept, tempfail, reject, discard');
    expect(e.message).toBe(e.toString());
    expect(e.reason).toBe('"acept" is not one of accept, tempfail, reject, discard');
    expect([e.file, e.line, e.key]).toEqual(['mailgate.toml', 12, 'milter[1].fallback_status']);
    expect(e.name).toBe('ConfigError');
  });

  it('keeps the report on one line', () => {
    const e = new ConfigError('connection spec "unix:/a\nb\u0001": bad', { file: 'f', line: 1, key: 'k' });
    expect(e.toString()).toBe('f:1: k: connection spec "unix:/a\\nb\\u0001": bad');
  });

  it('leaves out what it does not know', () => {
    expect(new ConfigError('x', { file: 'f' }).toString()).toBe('f: x');
    expect(new ConfigError('x', { key: 'k' }).toString()).toBe('k: x');
    expect(new ConfigError('x').toString()).toBe('x');
  });
});

describe('validation errors name the file, line and key', () => {
  it.each<[string, string, number, string | undefined, string]>([
    // [what, text, line, key, the whole reason]
    [
      'typo in a [manager] key',
      withLine(2, 'conection_spec = "unix:/x.sock"'),
      2,
      'manager.conection_spec',
      'unknown key "conection_spec" in [manager]; did you mean connection_spec?',
    ],
    [
      'typo in a [[milter]] key',
      withLine(12, 'evaluaton_mode = false'),
      12,
      'milter "opendkim".evaluaton_mode',
      'unknown key "evaluaton_mode" in [[milter]]; did you mean evaluation_mode?',
    ],
    [
      'a key far from any known one: no suggestion',
      withLine(3, 'colour = "blue"'),
      3,
      'manager.colour',
      'unknown key "colour" in [manager]',
    ],
    ['typo in a top-level table', `[mangaer]\nmax_connections = 1\n`, 1, 'mangaer', 'unknown key "mangaer" in the top level; did you mean manager?'],
    [
      'fallback_status not one of the values',
      withLine(11, 'fallback_status = "acept"'),
      11,
      'milter "opendkim".fallback_status',
      '"acept" is not one of accept, tempfail, reject, discard; did you mean accept?',
    ],
    ['wrong type: boolean as a string', withLine(10, 'enabled = "yes"'), 10, 'milter "opendkim".enabled', 'expected true or false, got a string ("yes")'],
    [
      'wrong type: mode as an integer',
      withLine(3, 'unix_socket_mode = 660'),
      3,
      'manager.unix_socket_mode',
      'expected an octal mode in quotes, like "0660", got an integer (660)',
    ],
    ['wrong type: timeout as a string', withLine(15, 'writing_timeout = "7"'), 15, 'milter "opendkim".writing_timeout', 'expected a number, got a string ("7")'],
    ['timeout zero', withLine(16, 'reading_timeout = 0'), 16, 'milter "opendkim".reading_timeout', 'must be greater than 0, got 0'],
    ['timeout nan', withLine(17, 'end_of_message_timeout = nan'), 17, 'milter "opendkim".end_of_message_timeout', 'expected a number, got NaN'],
    ['max_connections negative', '[manager]\nmax_connections = -1\n', 2, 'manager.max_connections', 'must be at least 0, got -1'],
    ['max_connections a float', '[manager]\n\nmax_connections = 1.5\n', 3, 'manager.max_connections', 'expected an integer, got 1.5'],
    ['[manager] not a table', 'manager = "x"\n', 1, 'manager', 'expected a table [manager], got a string ("x")'],
    ['[milter] instead of [[milter]]', '[milter]\nname = "x"\n', 1, 'milter', 'expected an array of tables (write [[milter]] for each one), got a table'],
    [
      'unknown applicable condition, near miss',
      withLine(13, 'applicable_conditions = ["Remote Netwrok", "Unauthenticated"]'),
      13,
      'milter "opendkim".applicable_conditions[0]',
      'unknown condition "Remote Netwrok"; did you mean "Remote Network"?',
    ],
    [
      'unknown applicable condition on its own line',
      withLine(13, 'applicable_conditions = [\n  "S25R",\n  "Unauthenticatd",\n]'),
      15,
      'milter "opendkim".applicable_conditions[1]',
      'unknown condition "Unauthenticatd"; did you mean "Unauthenticated"?',
    ],
    [
      'unknown applicable condition, nothing close',
      withLine(13, 'applicable_conditions = ["Greylisted"]'),
      13,
      'milter "opendkim".applicable_conditions[0]',
      'unknown condition "Greylisted" (known: S25R, Remote Network, Authenticated, Unauthenticated, Trust, Stress Notify, No Stress)',
    ],
    [
      'applicable condition listed twice',
      withLine(13, 'applicable_conditions = ["Trust", "trust"]'),
      13,
      'milter "opendkim".applicable_conditions[1]',
      'condition "Trust" is listed twice',
    ],
    [
      'applicable condition not a string',
      withLine(13, 'applicable_conditions = ["Trust", 3]'),
      13,
      'milter "opendkim".applicable_conditions[1]',
      'expected a string, got an integer (3)',
    ],
    [
      'bad connection spec in [manager]',
      withLine(2, 'connection_spec = "tcp:10025"'),
      2,
      'manager.connection_spec',
      'connection spec "tcp:10025": unknown type "tcp" (accepted: unix:PATH, inet:PORT@HOST, inet:PORT@[ADDR], inet6:PORT@ADDR (milter), inet:HOST:PORT or inet:[ADDR]:PORT (Postfix))',
    ],
    [
      'bad connection spec in [[milter]]',
      withLine(9, 'connection_spec = "inet:99999"'),
      9,
      'milter "opendkim".connection_spec',
      'connection spec "inet:99999": port "99999" is not a number from 0 to 65535 (accepted: unix:PATH, inet:PORT@HOST, inet:PORT@[ADDR], inet6:PORT@ADDR (milter), inet:HOST:PORT or inet:[ADDR]:PORT (Postfix))',
    ],
    [
      'bad connection spec in a multi-line string: still one line',
      '[manager]\nconnection_spec = """\ninet:x\n"""\n',
      2,
      'manager.connection_spec',
      'connection spec "inet:x\\n": port "x\\n" is not a number from 0 to 65535 (accepted: unix:PATH, inet:PORT@HOST, inet:PORT@[ADDR], inet6:PORT@ADDR (milter), inet:HOST:PORT or inet:[ADDR]:PORT (Postfix))',
    ],
    ['bad socket mode', withLine(3, 'unix_socket_mode = "rw-rw----"'), 3, 'manager.unix_socket_mode', 'unix_socket_mode "rw-rw----" is not an octal mode like 0660'],
    ['empty socket group', withLine(4, 'unix_socket_group = ""'), 4, 'manager.unix_socket_group', 'must not be empty (leave unix_socket_group out for no chgrp)'],
    [
      'duplicate milter name',
      `${EXAMPLE}\n[[milter]]\nname = "opendkim"\nbuiltin = "rules"\n`,
      20,
      'milter "opendkim".name',
      'duplicate milter name "opendkim" (first defined on line 8)',
    ],
    ['empty milter name', withLine(8, 'name = ""'), 8, 'milter[0].name', 'must not be empty'],
    ['missing milter name', withLine(8, ''), 7, 'milter[0]', '[[milter]] needs name (a string)'],
    [
      'both connection_spec and builtin',
      `${EXAMPLE}builtin = "greylist"\n`,
      18,
      'milter "opendkim".builtin',
      'connection_spec and builtin are both set; a child is either remote (connection_spec) or built in (builtin)',
    ],
    [
      'neither connection_spec nor builtin',
      withLine(9, ''),
      7,
      'milter "opendkim"',
      'milter "opendkim" needs connection_spec (a remote milter) or builtin (a built-in filter)',
    ],
    [
      'unknown builtin',
      '[[milter]]\nname = "g"\nbuiltin = "greylst"\n',
      3,
      'milter "g".builtin',
      '"greylst" is not a built-in filter (one of greylist, spamassassin, rspamd, clamav, sender-auth, rules); did you mean greylist?',
    ],
    ['empty builtin', '[[milter]]\nname = "g"\n\nbuiltin = ""\n', 4, 'milter "g".builtin', 'must not be empty (leave builtin out instead)'],
    [
      'bad regular expression in [[condition]]',
      '[[condition]]\nname = "c"\nfield = "helo"\npattern = "(unclosed"\naction = "apply"\n',
      4,
      'condition "c".pattern',
      'Invalid regular expression: /(unclosed/: Unterminated group',
    ],
    [
      'bad flags in [[condition]]',
      '[[condition]]\nname = "c"\nfield = "helo"\npattern = "x"\nflags = "q"\naction = "apply"\n',
      5,
      'condition "c".flags',
      '"q" is not a valid set of regular expression flags',
    ],
    [
      'condition with field = macro but no macro',
      '[[condition]]\nname = "c"\nfield = "macro"\npattern = "x"\naction = "skip"\n',
      1,
      'condition "c"',
      'condition "c" has field = "macro" but no macro',
    ],
    [
      'condition with a macro but another field',
      '[[condition]]\nname = "c"\nfield = "host"\nmacro = "{x}"\npattern = "x"\naction = "skip"\n',
      4,
      'condition "c".macro',
      'macro is used only with field = "macro" (field is "host")',
    ],
    [
      'condition with an unknown field',
      '[[condition]]\nname = "c"\nfield = "hots"\npattern = "x"\naction = "skip"\n',
      3,
      'condition "c".field',
      '"hots" is not one of host, address, helo, sender, recipient, macro; did you mean host?',
    ],
    [
      'condition without action',
      '[[condition]]\nname = "c"\nfield = "host"\npattern = "x"\n',
      1,
      'condition "c"',
      'condition "c" needs action ("apply" or "skip")',
    ],
    [
      'condition named like a built-in',
      '[[condition]]\nname = "remote network"\nfield = "host"\npattern = "x"\naction = "apply"\n',
      2,
      'condition "remote network".name',
      '"remote network" is the name of a built-in condition',
    ],
    [
      'duplicate condition names',
      '[[condition]]\nname = "c"\nfield = "host"\npattern = "x"\naction = "apply"\n[[condition]]\nname = "C"\nfield = "host"\npattern = "y"\naction = "apply"\n',
      7,
      'condition "C".name',
      'duplicate condition name "C" (names are case-insensitive; first defined on line 2)',
    ],
    [
      'bad CIDR in [remote_network]',
      '[remote_network]\nlocal_addresses = [\n  "192.0.2.0/24",\n  "10.0.0.0/33",\n]\n',
      4,
      'remote_network.local_addresses[1]',
      '"10.0.0.0/33": prefix length "33" is not a number from 0 to 32',
    ],
    [
      'not an address in [remote_network]',
      '[remote_network]\nremote_addresses = ["example.com"]\n',
      2,
      'remote_network.remote_addresses[0]',
      '"example.com" is not an IP address or CIDR like 192.0.2.0/24',
    ],
    ['bad regular expression in [s25r]', '[s25r]\nwhitelist = ["ok", "/a(/"]\n', 2, 's25r.whitelist[1]', '"/a(/": Invalid regular expression: /a(/: Unterminated group'],
    ['bad regular expression flags in [trust]', '[trust]\ndomains = ["/x/z"]\n', 2, 'trust.domains[0]', '"/x/z": invalid regular expression flags "z"'],
    ['empty string in [trust]', '[trust]\ndomains = [""]\n', 2, 'trust.domains[0]', 'must not be empty'],
    ['unknown key in [s25r]', '[s25r]\ncheck_only_ipv6 = true\n', 2, 's25r.check_only_ipv6', 'unknown key "check_only_ipv6" in [s25r]; did you mean check_only_ipv4?'],
    ['negative stress threshold', '[stress]\nthreshold = -3\n', 2, 'stress.threshold', 'must be at least 0, got -3'],
    ['unknown key in a dotted key', 'manager.conection_spec = "unix:/x"\n', 1, 'manager.conection_spec', 'unknown key "conection_spec" in [manager]; did you mean connection_spec?'],
    ['unknown key in an inline table', 'stress = {\n  treshold = 1 }\n', 2, 'stress.treshold', 'unknown key "treshold" in [stress]; did you mean threshold?'],
    ['quoted unknown key', '[manager]\n"odd.key" = 1\n', 2, 'manager."odd.key"', 'unknown key "odd.key" in [manager]'],
  ])('%s', (_what, text, line, key, reason) => {
    const e = configError(text);
    expect({ line: e.line, key: e.key, reason: e.reason, file: e.file }).toStrictEqual({ line, key, reason, file: 'mailgate.toml' });
    expect(e.toString()).toBe(`mailgate.toml:${line}: ${key === undefined ? '' : `${key}: `}${reason}`);
  });

  it('the n-th [[milter]] is found by its own line', () => {
    const text = `${EXAMPLE}\n[[milter]]\nname = "second"\nbuiltin = "rules"\n\n[[milter]]\nname = "third"\nbuiltin = "rules"\nfallback_status = "later"\n`;
    const e = configError(text);
    expect(e.toString()).toBe(
      'mailgate.toml:26: milter "third".fallback_status: "later" is not one of accept, tempfail, reject, discard',
    );
  });

  it('children and conditions are named by their name, everywhere below them; by index when they have none', () => {
    const text = `${EXAMPLE}\n[[milter]]\nname = "clamav"\nbuiltin = "clamav"\non_infected = "bounce"\n`;
    expect(configError(text).toString()).toMatch(/^mailgate\.toml:22: milter "clamav"\.on_infected: "bounce" is not one of /);
    // unknown keys are found before the name is read: named all the same
    expect(configError(`${EXAMPLE}fallback_stauts = "accept"\n`).key).toBe('milter "opendkim".fallback_stauts');
    // an odd name is quoted as a TOML string
    expect(configError('[[milter]]\nname = "a \\"b\\""\nenabled = 1\nconnection_spec = "inet:1@[127.0.0.1]"\n').key).toBe('milter "a \\"b\\"".enabled');
    expect(configError('[[milter]]\nname = 3\n').key).toBe('milter[0].name');
  });

  it('conditions may be defined after the milters that use them', () => {
    const text = withLine(13, 'applicable_conditions = ["Mine"]') + '\n[[condition]]\nname = "mine"\nfield = "sender"\npattern = "x"\naction = "skip"\n';
    expect(() => configError(text)).toThrow('expected a ConfigError');
  });
});

describe('TOML syntax errors are reported as file:line', () => {
  it.each<[string, string, number]>([
    ['unterminated string', '[manager]\nconnection_spec = "unix:/x\n', 2],
    ['missing value', '[manager]\n\n\nmax_connections =\n', 4],
    ['redefined table', '[manager]\ndetect = true\n[manager]\ndetect = false\n', 3],
    ['duplicate key', '[[milter]]\nname = "a"\nname = "b"\n', 3],
    ['garbage', 'this is not toml\n', 1],
  ])('%s', (_what, text, line) => {
    const e = configError(text, '/etc/mailgate/mailgate.toml');
    expect(e.file).toBe('/etc/mailgate/mailgate.toml');
    expect(e.line).toBe(line);
    expect(e.key).toBeUndefined();
    expect(e.toString()).toMatch(new RegExp(`^/etc/mailgate/mailgate\\.toml:${line}: TOML syntax error: \\S`));
    expect(e.toString()).not.toContain('\n');
  });
  it.each<[string, string, number, string]>([
    ['a basic string', '[manager]\nconnection_spec = "unix:/x\nmax_connections = 3\n', 2, 'the " on this line has no closing " on the same line'],
    ['a literal string', "\n[manager]\nconnection_spec = 'unix:/x\n", 3, "the ' on this line has no closing ' on the same line"],
    ['a second string of an array', 'a = 1\n[manager]\ndns_servers = ["127.0.0.1", "::1]\n', 3, 'the " on this line has no closing " on the same line'],
    ['after a comment with a quote', '# don\'t "quote" me\n[manager]\nfallback_status = "accept" # "ok"\nconnection_spec = "x\n', 4, 'the " on this line has no closing " on the same line'],
    ['after an escaped quote', 'data_dir = "a\\"b\n', 1, 'the " on this line has no closing " on the same line'],
    ['a multi-line string', '[[milter]]\nname = "g"\nconf_text = """\ngreylist 10m\nracl greylist default\n', 3, 'the """ on this line has no closing """ anywhere after it'],
    ['a multi-line literal string', "x = 1\ny = '''a\n", 2, "the ''' on this line has no closing ''' anywhere after it"],
  ])('an unterminated string is reported as one, at the line it starts on: %s', (_what, text, line, why) => {
    const e = configError(text, 'm.toml');
    expect(e.message).toBe(`m.toml:${line}: TOML syntax error: unterminated string: ${why}`);
  });

  it('closed strings (escapes, multi-line, quotes in comments) are not taken for unterminated ones', () => {
    const text = 'a = "x\\\\" # "\nb = """one\n\\\ntwo""""\nc = \'\'\'it\'s\'\'\'\nd = [\n'; // the real error: an unclosed array
    const e = configError(text, 'm.toml');
    expect(e.message).not.toContain('unterminated string');
  });
});
