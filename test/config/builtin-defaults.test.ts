/**
 * show-config prints every built-in filter's own defaults, marked as defaults: each value shown is the
 * one the filter's option reader uses (written into the file, it changes nothing), and every key of
 * every filter is shown, written or not.
 */
import { describe, expect, it } from 'vitest';
import { builtinKeys, BUILTIN_NAMES, type BuiltinName } from '../../src/config/builtins/index.js';
import { shownDefaults } from '../../src/config/builtins/shown-defaults.js';
import { formatConfig } from '../../src/config/format.js';
import { parseConfig } from '../../src/config/load.js';
import type { BuiltinMilterConfig } from '../../src/config/schema.js';
import { tomlInline } from '../../src/config/toml-text.js';
import { sqliteFilePath } from '../../src/store/greylist/open.js';

const F = '/etc/mailgate/mailgate.toml';
/** What each filter needs besides defaults. */
const REQUIRED: Partial<Record<BuiltinName, string>> = { greylist: 'conf_text = "racl greylist default"\n' };

const table = (builtin: BuiltinName, extra = ''): string => `[[milter]]\nname = "x"\nbuiltin = "${builtin}"\n${REQUIRED[builtin] ?? ''}${extra}`;

function options(builtin: BuiltinName, extra = ''): unknown {
  const loaded = parseConfig(table(builtin, extra), F);
  const m = loaded.config.milters[0] as BuiltinMilterConfig;
  if (m.builtin !== 'greylist') return m.options;
  // sqlite_file's default is a name inside data_dir; compare the file it means
  const { sqliteFile, ...rest } = m.options;
  return { ...rest, conf: { text: rest.conf.text }, sqlite: sqliteFilePath(loaded.config.dataDir, sqliteFile) };
}

describe('built-in filters\' defaults as show-config prints them', () => {
  it.each(BUILTIN_NAMES)('%s: every key has a shown default; each value, written out, is what the reader uses', (builtin) => {
    const shown = shownDefaults(builtin, {}, '/etc/mailgate/data');
    expect(Object.keys(shown).sort()).toStrictEqual([...builtinKeys(builtin)].sort());
    const written = Object.entries(shown)
      .filter((e): e is [string, { value: unknown }] => 'value' in e[1])
      .map(([k, d]) => `${k} = ${tomlInline(d.value)}\n`)
      .join('');
    expect(options(builtin, written)).toStrictEqual(options(builtin));
  });

  it('defaults that follow other keys follow them', () => {
    expect(shownDefaults('spamassassin', { reject_code: 451, timeout: 3 }, '/d')).toMatchObject({ reject_ecode: { value: '4.7.1' }, connect_timeout: { value: 3 } });
    expect(options('spamassassin', 'reject_code = 451\ntimeout = 3\n')).toStrictEqual(options('spamassassin', 'reject_code = 451\ntimeout = 3\nreject_ecode = "4.7.1"\nconnect_timeout = 3\n'));
    expect(shownDefaults('rules', { score_action: 'tempfail' }, '/d')['score_reply']).toStrictEqual({ value: '451 4.7.1 Message deferred by content rules, try again later' });
    expect(options('rules', 'score_action = "tempfail"\n')).toStrictEqual(options('rules', 'score_action = "tempfail"\nscore_reply = "451 4.7.1 Message deferred by content rules, try again later"\n'));
    expect(shownDefaults('rules', { score_action: 'add_header' }, '/d')['score_header']).toStrictEqual({ value: 'X-Rules-Score' });
  });

  it('show-config prints them, marked, after the keys the file sets, and reads back to the same configuration', () => {
    const text = `data_dir = "/var/lib/mailgate"\n${table('greylist', 'store = "memory"\n')}\n${table('rules').replace('"x"', '"r"')}`;
    const loaded = parseConfig(text, F);
    const out = formatConfig(loaded);
    expect(out).toContain(`# ${F}:6\nstore = "memory"\n# default: redis_url = "redis://127.0.0.1:6379/0"\n# default: redis_prefix = "mailgate:greylist:"\n# default: sqlite_file = "/var/lib/mailgate/greylist.sqlite"\n`);
    expect(out).toContain('# default: conf is not set (conf_text is used)\n');
    expect(out).toContain('# default: score_action = "reject"\n# default: score_reply = "550 5.7.1 Message refused by content rules"\n');
    expect(out).toContain('# default: max_body_size = 1048576\n# default: max_text_size = 65536\n# default: match_timeout = 250\n');
    // (where conf_text sits in the file moves with printing)
    const again = parseConfig(out, '/elsewhere/printed.toml').config;
    const textOnly = (c: typeof again) => ({ ...c, milters: c.milters.map((m) => (m.builtin === 'greylist' ? { ...m, options: { ...m.options, conf: m.options.conf.text } } : m)) });
    expect(textOnly(again)).toStrictEqual(textOnly(loaded.config));
  });
});
