/** toMilterConfigs (fed to addDetectedMilters) and `mailgate detect`. */
import { describe, expect, it, vi } from 'vitest';
import { formatDetected, detectCommand } from '../../../src/cli/detect.js';
import { toMilterConfigs, type DetectedMilter } from '../../../src/cli/detect/index.js';
import { defaultConfig } from '../../../src/config/defaults.js';
import { addDetectedMilters } from '../../../src/config/detected.js';
import { detectIn, initScript, tree, unit, WANTS } from './tree.js';

const greylist: DetectedMilter = {
  name: 'milter-greylist',
  description: 'Greylist milter',
  connectionSpec: 'unix:/run/milter-greylist/milter-greylist.sock',
  writtenSpec: '/run/milter-greylist/milter-greylist.sock',
  enabled: true,
  service: 'systemd',
  serviceFile: '/lib/systemd/system/milter-greylist.service',
  source: 'config',
  sourceFile: '/etc/milter-greylist/greylist.conf',
  sourceLine: 3,
  applicableConditions: ['Stress Notify', 'Trust', 'Remote Network', 'S25R', 'Unauthenticated'],
  tarpitSeconds: 30,
  notes: [],
};
const brokenClamav: DetectedMilter = {
  name: 'clamav-milter',
  enabled: false,
  service: 'init',
  serviceFile: '/etc/init.d/clamav-milter',
  source: 'init',
  sourceFile: '/etc/init.d/clamav-milter',
  applicableConditions: [],
  problem: '/etc/clamav/clamav-milter.conf:8 still has the "Example" line: clamav-milter will not start and its MilterSocket is ignored',
  notes: [],
};
const disabledDkim: DetectedMilter = {
  name: 'opendkim',
  connectionSpec: 'inet:8891@localhost',
  writtenSpec: 'inet:8891@localhost',
  enabled: false,
  service: 'init',
  serviceFile: '/etc/init.d/opendkim',
  source: 'config',
  sourceFile: '/etc/opendkim.conf',
  sourceLine: 4,
  applicableConditions: [],
  notes: ['the systemd unit /lib/systemd/system/opendkim.service is not enabled'],
};

describe('toMilterConfigs', () => {
  it('applies milter-manager defaults, adds the greylist tarpit, keeps disabled ones, skips problems', () => {
    expect(toMilterConfigs([greylist, brokenClamav, disabledDkim])).toEqual([
      {
        name: 'milter-greylist',
        description: 'Greylist milter',
        connectionSpec: 'unix:/run/milter-greylist/milter-greylist.sock',
        enabled: true,
        fallbackStatus: 'accept',
        evaluationMode: false,
        applicableConditions: ['Stress Notify', 'Trust', 'Remote Network', 'S25R', 'Unauthenticated'],
        timeouts: { connection: 297, writing: 37, reading: 37, endOfMessage: 297 },
      },
      {
        name: 'opendkim',
        connectionSpec: 'inet:8891@localhost',
        enabled: false,
        fallbackStatus: 'accept',
        evaluationMode: false,
        applicableConditions: [],
        timeouts: { connection: 297, writing: 7, reading: 7, endOfMessage: 297 },
      },
    ]);
    expect(toMilterConfigs([])).toEqual([]);
  });

  it('produces children that addDetectedMilters accepts', () => {
    const { found } = detectIn({
      '/lib/systemd/system/milter-greylist.service': unit('greylist', 'ExecStart=/usr/sbin/milter-greylist -p /run/g.sock'),
      [`${WANTS}/milter-greylist.service`]: 'x',
      '/etc/init.d/spamass-milter': initScript('spamass-milter', 'spamass', 'SOCKET=/run/s.sock\n'),
      '/lib/systemd/system/rspamd.service': unit('rspamd', 'ExecStart=/usr/bin/rspamd'),
    });
    const loaded = addDetectedMilters({ config: defaultConfig(), origins: new Map(), file: undefined }, toMilterConfigs(found));
    expect(loaded.config.milters.map((m) => [m.name, m.connectionSpec, m.enabled])).toEqual([
      ['milter-greylist', 'unix:/run/g.sock', true],
      ['spamass-milter', 'unix:/run/s.sock', true],
      ['rspamd', 'inet:11332@localhost', false],
    ]);
    expect(loaded.origins.get('milter.rspamd')).toBe('detected');
  });
});

describe('mailgate detect', () => {
  it('prints one block per milter', () => {
    expect(formatDetected([greylist, brokenClamav, disabledDkim])).toBe(`milter-greylist (Greylist milter)
  connection spec: unix:/run/milter-greylist/milter-greylist.sock
  enabled:         yes
  service:         systemd /lib/systemd/system/milter-greylist.service
  found in:        config /etc/milter-greylist/greylist.conf:3
  conditions:      Stress Notify, Trust, Remote Network, S25R, Unauthenticated
  tarpit:          30s (added to the reading and writing timeouts)

clamav-milter
  connection spec: (none)
  enabled:         no
  service:         init /etc/init.d/clamav-milter
  found in:        init /etc/init.d/clamav-milter
  conditions:      (none)
  problem:         /etc/clamav/clamav-milter.conf:8 still has the "Example" line: clamav-milter will not start and its MilterSocket is ignored

opendkim
  connection spec: inet:8891@localhost
  enabled:         no
  service:         init /etc/init.d/opendkim
  found in:        config /etc/opendkim.conf:4
  conditions:      (none)
  note:            the systemd unit /lib/systemd/system/opendkim.service is not enabled
`);
    expect(formatDetected([{ ...brokenClamav, writtenSpec: 'inet:x@y', problem: 'bad port' }])).toContain('connection spec: (unusable: inet:x@y)');
  });

  it('says "no milters found" when there are none', () => {
    expect(formatDetected([])).toBe('no milters found\n');
  });

  async function run(args: string[]): Promise<string> {
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += chunk.toString();
      return true;
    });
    try {
      await detectCommand().exitOverride().parseAsync(args, { from: 'user' });
    } finally {
      spy.mockRestore();
    }
    return out;
  }

  it('runs against --root, with --platform and --json', async () => {
    const empty = tree({ '/etc/debian_version': '12\n' });
    expect(await run(['--root', empty])).toBe('no milters found\n');
    const root = tree({
      '/etc/init.d/spamass-milter': initScript('spamass-milter', 'spamass', 'SOCKET=/run/s.sock\n'),
      '/etc/sysconfig/spamass-milter': 'SOCKET=/run/redhat.sock\n',
    });
    const text = await run(['--root', root]);
    expect(text).toContain('spamass-milter (spamass)\n  connection spec: unix:/run/s.sock\n  enabled:         yes\n');
    expect(text).toContain(`  found in:        init ${root}/etc/init.d/spamass-milter:14\n`);
    expect(await run(['--root', root, '--platform', 'redhat'])).toContain('connection spec: unix:/run/redhat.sock\n');
    const json = JSON.parse(await run(['--root', root, '--json'])) as DetectedMilter[];
    expect(json.map((m) => m.connectionSpec)).toEqual(['unix:/run/s.sock']);
    expect(process.exitCode ?? 0).toBe(0);
  });
});
