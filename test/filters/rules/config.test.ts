/** The rules filter's options: what [[milter.rule]] and the score keys parse to, and file:line:key errors. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { formatConfig } from '../../../src/config/format.js';
import { parseConfig } from '../../../src/config/load.js';
import { rulesOptions } from './helpers.js';

const HEAD = '[[milter]]\nname = "rules"\nbuiltin = "rules"\n';

function errorOf(body: string): ConfigError {
  try {
    parseConfig(`${HEAD}${body}`, 'mailgate.toml');
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('rules options', () => {
  it('a rules child without rules is valid, inert and has fixed defaults', () => {
    const options = rulesOptions('');
    expect(options).toEqual(rulesOptions(''));
    expect(options.rules).toEqual([]);
    expect(options.scoreThreshold).toBeUndefined();
    expect(options).toMatchObject({ maxBodySize: 1048576, maxTextSize: 65536, matchTimeout: 250 });
    expect(options.scoreAction).toEqual({ kind: 'reject', reply: { code: 550, enhancedCode: '5.7.1', text: ['Message refused by content rules'] } });
  });

  it('reads every field and action, /source/flags or pattern + flags, in order', () => {
    const options = rulesOptions(`score_threshold = 5
score_action = "tempfail"
score_reply = "452 4.7.0 Later please"
max_body_size = 2000
max_text_size = 100
match_timeout = 50
[[milter.rule]]
field = "host"
pattern = '/\\.dynamic\\./i'
action = "reject"
reply = "554 5.7.1 No dynamic hosts like $0"
[[milter.rule]]
field = "address"
pattern = '^192\\.0\\.2\\.'
action = "accept"
[[milter.rule]]
field = "helo"
pattern = 'localhost'
flags = "i"
action = "tempfail"
[[milter.rule]]
field = "sender"
pattern = '^$'
action = "discard"
[[milter.rule]]
field = "recipient"
pattern = '@(?<domain>example\\.net)$'
action = "add_header"
header_name = "X-Domain"
header_value = "$<domain> ($1)"
[[milter.rule]]
field = "header"
header = "*"
pattern = 'x'
action = "quarantine"
reason = "held: $&"
[[milter.rule]]
field = "body"
pattern = 'cheap'
action = "score"
score = -1.5
`);
    expect(options.rules.map((r) => [r.path, r.field, r.action.kind])).toEqual([
      ['milter "rules".rule[0]', 'host', 'reject'],
      ['milter "rules".rule[1]', 'address', 'accept'],
      ['milter "rules".rule[2]', 'helo', 'tempfail'],
      ['milter "rules".rule[3]', 'sender', 'discard'],
      ['milter "rules".rule[4]', 'recipient', 'add_header'],
      ['milter "rules".rule[5]', 'header', 'quarantine'],
      ['milter "rules".rule[6]', 'body', 'score'],
    ]);
    expect(options.rules[0]?.pattern).toEqual(/\.dynamic\./i);
    expect(options.rules[0]?.action).toEqual({ kind: 'reject', reply: { code: 554, enhancedCode: '5.7.1', text: ['No dynamic hosts like ', { group: 0 }] } });
    expect(options.rules[2]?.pattern).toEqual(/localhost/i);
    expect(options.rules[4]?.action).toEqual({ kind: 'add_header', name: 'X-Domain', value: [{ name: 'domain' }, ' (', { group: 1 }, ')'] });
    expect(options.rules[5]).toMatchObject({ header: '*', action: { kind: 'quarantine', reason: ['held: ', { group: 0 }] } });
    expect(options.rules[6]?.action).toEqual({ kind: 'score', score: -1.5 });
    expect(options).toMatchObject({ scoreThreshold: 5, maxBodySize: 2000, maxTextSize: 100, matchTimeout: 50 });
    expect(options.scoreAction).toEqual({ kind: 'tempfail', reply: { code: 452, enhancedCode: '4.7.0', text: ['Later please'] } });
  });

  it('score_action add_header names its header', () => {
    expect(rulesOptions('score_threshold = 1\nscore_action = "add_header"\n').scoreAction).toEqual({ kind: 'add_header', name: 'X-Rules-Score' });
    expect(rulesOptions('score_threshold = 1\nscore_action = "add_header"\nscore_header = "X-Spam"\n').scoreAction).toEqual({ kind: 'add_header', name: 'X-Spam' });
  });

  it('show-config prints the rules back to an equal configuration', () => {
    const text = `${HEAD}score_threshold = 2\n[[milter.rule]]\nfield = "header"\nheader = "Subject"\npattern = '/\\bviagra\\b/i'\naction = "score"\nscore = 2.5\n`;
    const loaded = parseConfig(text, 'mailgate.toml');
    const again = parseConfig(formatConfig(loaded), 'shown.toml');
    expect(again.config).toEqual(loaded.config);
  });
});

describe('rules option errors name file:line and key', () => {
  const rule = (lines: string) => `[[milter.rule]]\n${lines}\n`;
  const cases: [string, string, RegExp][] = [
    ['an invalid pattern', rule('field = "body"\npattern = "(unclosed"\naction = "reject"'), /^mailgate\.toml:6: milter "rules"\.rule\[0\]\.pattern: Invalid regular expression: \/\(unclosed\/: Unterminated group$/],
    ['an invalid /pattern/', rule('field = "body"\npattern = "/a[/"\naction = "reject"'), /^mailgate\.toml:6: milter "rules"\.rule\[0\]\.pattern: Invalid regular expression/],
    ['bad flags in /pattern/flags', rule('field = "body"\npattern = "/a/q"\naction = "reject"'), /:6: milter "rules"\.rule\[0\]\.pattern: "\/a\/q": invalid regular expression flags "q"$/],
    ['bad flags key', rule('field = "body"\npattern = "a"\nflags = "z"\naction = "reject"'), /:7: milter "rules"\.rule\[0\]\.flags: "z" is not a valid set/],
    ['flags twice', rule('field = "body"\npattern = "/a/i"\nflags = "m"\naction = "reject"'), /:7: milter "rules"\.rule\[0\]\.flags: flags are given twice/],
    ['an unknown field', rule('field = "subject"\npattern = "a"\naction = "reject"'), /:5: milter "rules"\.rule\[0\]\.field: "subject" is not one of host, address/],
    ['an unknown action', rule('field = "body"\npattern = "a"\naction = "bounce"'), /:7: milter "rules"\.rule\[0\]\.action: "bounce" is not one of accept, reject/],
    ['an unknown key', rule('field = "body"\npattern = "a"\naction = "reject"\nmessage = "x"'), /:8: milter "rules"\.rule\[0\]\.message: unknown key "message" in \[\[milter\.rule\]\]/],
    ['a header rule without header', rule('field = "header"\npattern = "a"\naction = "reject"'), /:4: milter "rules"\.rule\[0\]: a rule with field = "header" needs header/],
    ['header on a body rule', rule('field = "body"\nheader = "Subject"\npattern = "a"\naction = "reject"'), /:6: milter "rules"\.rule\[0\]\.header: header is used only with field = "header"/],
    ['a bad header name', rule('field = "header"\nheader = "Sub ject"\npattern = "a"\naction = "reject"'), /:6: milter "rules"\.rule\[0\]\.header: "Sub ject" is not a header name/],
    ['no pattern', rule('field = "body"\naction = "reject"'), /:4: milter "rules"\.rule\[0\]: a rule needs pattern/],
    ['a reply of the wrong class', rule('field = "body"\npattern = "a"\naction = "reject"\nreply = "451 4.7.1 later"'), /:8: milter "rules"\.rule\[0\]\.reply: a reject reply needs a 5xx code, got 451/],
    ['a reply that is no reply', rule('field = "body"\npattern = "a"\naction = "tempfail"\nreply = "later"'), /:8: milter "rules"\.rule\[0\]\.reply: "later" is not an SMTP reply/],
    ['reply on an accept', rule('field = "body"\npattern = "a"\naction = "accept"\nreply = "550 no"'), /:8: milter "rules"\.rule\[0\]\.reply: reply is used only with action = "reject" or "tempfail"/],
    ['a missing group', rule('field = "body"\npattern = "(a)"\naction = "add_header"\nheader_name = "X-A"\nheader_value = "$2"'), /:9: milter "rules"\.rule\[0\]\.header_value: \$2: the pattern has only 1 capture group$/],
    ['a missing named group', rule('field = "body"\npattern = "(?<x>a)"\naction = "add_header"\nheader_name = "X-A"\nheader_value = "$<y>"'), /:9: milter "rules"\.rule\[0\]\.header_value: \$<y>: the pattern has no group named "y" \(it has x\)/],
    ['add_header without a name', rule('field = "body"\npattern = "a"\naction = "add_header"\nheader_value = "v"'), /:4: milter "rules"\.rule\[0\]: a rule with action = "add_header" needs header_name/],
    ['a score rule without a score', rule('field = "body"\npattern = "a"\naction = "score"'), /:4: milter "rules"\.rule\[0\]: a rule with action = "score" needs score/],
    ['a score rule without a threshold', rule('field = "body"\npattern = "a"\naction = "score"\nscore = 1'), /:8: milter "rules"\.rule\[0\]\.score: a rule with action = "score" needs score_threshold/],
    ['a bad score_action', 'score_action = "bounce"\n', /:4: milter "rules"\.score_action: "bounce" is not one of reject, tempfail/],
    ['score_header with reject', 'score_header = "X-S"\n', /:4: milter "rules"\.score_header: score_header is used only with score_action = "add_header"/],
    ['a zero max_text_size', 'max_text_size = 0\n', /:4: milter "rules"\.max_text_size: must be greater than 0/],
    ['rule as a plain value', 'rule = "x"\n', /:4: milter "rules"\.rule: expected an array of tables/],
  ];
  for (const [what, body, expected] of cases) {
    it(what, () => {
      expect(errorOf(body).message).toMatch(expected);
    });
  }
});
