/** The sample /etc/mailgate/mailgate.toml shipped in contrib/ loads with the project's own loader, and shows every key. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig, TOP_LEVEL_KEYS } from '../../src/config/load.js';
import { MANAGER_KEYS } from '../../src/config/sections/manager.js';
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
});
