/**
 * Detection on this machine ("/"). The test command installs opendkim, clamav-milter and spamass-milter (and
 * Postfix) with Debian's default configuration; their default sockets are:
 * - opendkim: /etc/opendkim.conf `Socket local:/run/opendkim/opendkim.sock` (systemd unit, or the init script
 *   when the unit has been disabled; both read the same file);
 * - clamav-milter: /etc/clamav/clamav-milter.conf `MilterSocket /var/run/clamav/clamav-milter.ctl` (written by
 *   the package's postinst; bookworm's package has only an init script);
 * - spamass-milter: its init script's Postfix default SOCKET="/var/spool/postfix/spamass/spamass.sock" (the
 *   SOCKET line in /etc/default/spamass-milter is commented out).
 * Whether each is enabled depends on the host (scripts/install-test-peers.sh disables them under systemd).
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectMilters, toMilterConfigs } from '../../../src/cli/detect/index.js';
import { only } from './tree.js';

// What the test command installs; a machine without them fails here, by name, rather than skipping.
const PEERS = ['/etc/debian_version', '/usr/sbin/opendkim', '/usr/sbin/clamav-milter', '/usr/sbin/spamass-milter'];

describe('this machine', () => {
  const found = detectMilters();

  it('has the peers that scripts/install-test-peers.sh installs', () => {
    expect(PEERS.filter((p) => !existsSync(p)), 'missing (run scripts/install-test-peers.sh as root)').toEqual([]);
  });

  it('finds opendkim, clamav-milter and spamass-milter with their Debian default sockets', () => {
    expect(only(found, 'opendkim')).toMatchObject({ connectionSpec: 'unix:/run/opendkim/opendkim.sock', source: 'config', sourceFile: '/etc/opendkim.conf' });
    expect(['systemd', 'init']).toContain(only(found, 'opendkim').service);
    expect(only(found, 'clamav-milter')).toMatchObject({
      connectionSpec: 'unix:/var/run/clamav/clamav-milter.ctl',
      source: 'config',
      sourceFile: '/etc/clamav/clamav-milter.conf',
    });
    const spamass = only(found, 'spamass-milter');
    expect(spamass.connectionSpec).toBe(existsSync('/usr/sbin/postfix') ? 'unix:/var/spool/postfix/spamass/spamass.sock' : 'unix:/var/run/spamass/spamass.sock');
    expect(spamass).toMatchObject({ service: 'init', source: 'init', sourceFile: '/etc/init.d/spamass-milter' });
    expect(spamass.applicableConditions).toEqual(['Remote Network', 'Unauthenticated', 'No Stress']);
    for (const name of ['opendkim', 'clamav-milter', 'spamass-milter']) {
      expect(only(found, name).problem).toBeUndefined();
      expect(only(found, name).sourceLine).toBeGreaterThan(0);
    }
  });

  it('turns them into valid child configurations', () => {
    const names = toMilterConfigs(found).map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['opendkim', 'clamav-milter', 'spamass-milter']));
  });
});
