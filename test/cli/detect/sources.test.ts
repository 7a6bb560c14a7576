/** systemd units, init scripts, /etc/default and /etc/sysconfig: which service is used, enabled, and the socket. */
import { describe, expect, it } from 'vitest';
import { detectMilters } from '../../../src/cli/detect/index.js';
import { detectIn, initScript, only, tree, unit, WANTS } from './tree.js';

describe('platform and empty systems', () => {
  it('finds nothing on an empty system or a missing root', () => {
    expect(detectMilters({ root: tree({ '/etc/debian_version': '12.5\n' }) })).toEqual([]);
    expect(detectMilters({ root: tree({ '/etc/redhat-release': 'Rocky Linux 9\n' }) })).toEqual([]);
    expect(detectMilters({ root: '/nonexistent/mailgate-detect-root' })).toEqual([]);
  });

  it('picks the layout from /etc/debian_version or /etc/redhat-release', () => {
    const files = {
      '/usr/lib/systemd/system/opendkim.service': unit('DomainKeys Identified Mail (DKIM) Milter', 'ExecStart=/usr/sbin/opendkim -x /etc/opendkim.conf'),
      '/etc/opendkim.conf': 'Socket inet:8891@localhost\n',
      '/etc/rc.d/init.d/spamass-milter': '#!/bin/sh\n# description: spamass\n',
      '/etc/sysconfig/spamass-milter': 'SOCKET=/run/spamass-milter/spamass-milter.sock\n',
    };
    const redhat = detectMilters({ root: tree({ ...files, '/etc/redhat-release': 'Fedora\n' }) });
    expect(redhat.map((m) => m.name)).toEqual(['opendkim', 'spamass-milter']);
    // On Debian the init script lives in /etc/init.d, so only the unit (also searched in /usr/lib) counts.
    const debian = detectMilters({ root: tree({ ...files, '/etc/debian_version': '12\n' }) });
    expect(debian.map((m) => m.name)).toEqual(['opendkim']);
  });
});

describe('systemd', () => {
  const envFileUnit = unit(
    'Sendmail milter plugin for SpamAssassin',
    'EnvironmentFile=-/etc/default/spamass-milter\nExecStart=/usr/sbin/spamass-milter -P /run/spamass/spamass.pid -f -p $SOCKET $OPTIONS',
  );
  const defaults = '# spamass-milter\nOPTIONS="-u spamass-milter -i 127.0.0.1"\nSOCKET="/var/spool/postfix/spamass/spamass.sock"\n';

  it('uses an enabled unit; -p $SOCKET is reported where SOCKET is set (the EnvironmentFile)', () => {
    const { root, found } = detectIn({
      '/lib/systemd/system/spamass-milter.service': envFileUnit,
      [`${WANTS}/spamass-milter.service`]: { link: '/lib/systemd/system/spamass-milter.service' },
      '/etc/default/spamass-milter': defaults,
    });
    expect(found).toEqual([
      {
        name: 'spamass-milter',
        description: 'Sendmail milter plugin for SpamAssassin',
        connectionSpec: 'unix:/var/spool/postfix/spamass/spamass.sock',
        writtenSpec: '/var/spool/postfix/spamass/spamass.sock',
        enabled: true,
        service: 'systemd',
        serviceFile: `${root}/lib/systemd/system/spamass-milter.service`,
        source: 'systemd',
        sourceFile: `${root}/etc/default/spamass-milter`,
        sourceLine: 3,
        applicableConditions: ['Remote Network', 'Unauthenticated', 'No Stress'],
        notes: [],
      },
    ]);
  });

  it('reports a unit without a wants link as disabled', () => {
    const { found } = detectIn({
      '/lib/systemd/system/spamass-milter.service': envFileUnit,
      '/etc/default/spamass-milter': defaults,
    });
    const m = only(found, 'spamass-milter');
    expect(m).toMatchObject({ service: 'systemd', enabled: false, connectionSpec: 'unix:/var/spool/postfix/spamass/spamass.sock' });
    expect(m.problem).toBeUndefined();
    expect(m.notes).toEqual(['the systemd unit is not enabled (no .wants link in /etc/systemd/system)']);
  });

  it('counts a wants link of another target, and a masked unit as disabled', () => {
    const base = { '/lib/systemd/system/spamass-milter.service': envFileUnit, '/etc/default/spamass-milter': defaults };
    const other = detectIn({ ...base, '/etc/systemd/system/postfix.service.wants/spamass-milter.service': { link: '/lib/systemd/system/spamass-milter.service' } });
    expect(only(other.found, 'spamass-milter').enabled).toBe(true);
    const masked = detectIn({
      ...base,
      [`${WANTS}/spamass-milter.service`]: { link: '/lib/systemd/system/spamass-milter.service' },
      '/etc/systemd/system/spamass-milter.service': { link: '/dev/null' },
    });
    const m = only(masked.found, 'spamass-milter');
    expect(m.enabled).toBe(false);
    expect(m.notes).toContain('the systemd unit is masked');
  });

  it('reads -p from ExecStart, Environment= and drop-ins (a drop-in ExecStart= replaces the vendor one)', () => {
    const literal = detectIn({
      '/lib/systemd/system/opendkim.service': unit('OpenDKIM', 'ExecStart=/usr/sbin/opendkim -P /run/opendkim/opendkim.pid -p inet:8891@[127.0.0.1]'),
      [`${WANTS}/opendkim.service`]: 'x',
      '/etc/opendkim.conf': 'Socket local:/run/opendkim/opendkim.sock\n',
    });
    // The command line overrides opendkim.conf.
    expect(only(literal.found, 'opendkim')).toMatchObject({ connectionSpec: 'inet:8891@[127.0.0.1]', source: 'systemd', sourceLine: 6 });

    const dropIn = detectIn({
      '/lib/systemd/system/opendkim.service': unit('OpenDKIM', 'ExecStart=/usr/sbin/opendkim'),
      '/etc/systemd/system/opendkim.service.d/override.conf': '[Service]\nEnvironment="SOCKET=local:/var/spool/postfix/opendkim/opendkim.sock" OTHER=1\nExecStart=\nExecStart=-/usr/sbin/opendkim -p ${SOCKET}\n',
      [`${WANTS}/opendkim.service`]: 'x',
    });
    expect(only(dropIn.found, 'opendkim')).toMatchObject({
      connectionSpec: 'unix:/var/spool/postfix/opendkim/opendkim.sock',
      source: 'systemd',
      sourceFile: `${dropIn.root}/etc/systemd/system/opendkim.service.d/override.conf`,
      sourceLine: 2,
      enabled: true,
    });
  });

  it('prefers /etc/systemd/system over the vendor unit and follows a symlinked EnvironmentFile', () => {
    const { root, found } = detectIn({
      '/lib/systemd/system/dkim-filter.service': unit('vendor', 'ExecStart=/usr/sbin/dkim-filter -p /vendor.sock'),
      '/etc/systemd/system/dkim-filter.service': unit('admin', 'EnvironmentFile=/etc/dkim.env\nExecStart=/usr/sbin/dkim-filter -p $SOCKET'),
      '/etc/dkim.env': { link: '/etc/real.env' },
      '/etc/real.env': 'SOCKET=inet:2000@localhost\n',
      [`${WANTS}/dkim-filter.service`]: 'x',
    });
    expect(only(found, 'dkim-filter')).toMatchObject({
      description: 'admin',
      connectionSpec: 'inet:2000@localhost',
      serviceFile: `${root}/etc/systemd/system/dkim-filter.service`,
      sourceFile: `${root}/etc/dkim.env`,
    });
  });

  it('falls back to the init script when the unit is not enabled; the unit still decides "enabled"', () => {
    const { root, found } = detectIn({
      '/lib/systemd/system/milter-greylist.service': unit('greylist', 'ExecStart=/usr/sbin/milter-greylist -D'),
      '/etc/init.d/milter-greylist': initScript('milter-greylist', 'Greylist milter', 'SOCKET=/var/run/milter-greylist/milter-greylist.sock\n'),
    });
    const m = only(found, 'milter-greylist');
    expect(m).toMatchObject({ service: 'init', enabled: false, connectionSpec: 'unix:/var/run/milter-greylist/milter-greylist.sock' });
    expect(m.notes).toContain(`the systemd unit ${root}/lib/systemd/system/milter-greylist.service is not enabled`);
  });

  it('falls back to the init script when an enabled unit names no socket', () => {
    const { found } = detectIn({
      '/lib/systemd/system/spfmilter.service': unit('spf', 'ExecStart=/usr/sbin/spfmilter'),
      [`${WANTS}/spfmilter.service`]: 'x',
      '/etc/init.d/spfmilter': initScript('spfmilter', 'SPF milter', 'OPTARGS="-p inet:5000@localhost"\n'),
    });
    expect(only(found, 'spfmilter')).toMatchObject({ service: 'init', enabled: true, connectionSpec: 'inet:5000@localhost' });
  });

  it('reports a unit with no socket anywhere as a problem', () => {
    const { root, found } = detectIn({
      '/lib/systemd/system/amavisd-new-milter.service': unit('amavis milter', 'ExecStart=/usr/sbin/amavisd-new-milter'),
      [`${WANTS}/amavisd-new-milter.service`]: 'x',
    });
    expect(only(found, 'amavisd-new-milter')).toMatchObject({
      enabled: false,
      problem: 'no socket found',
      source: 'systemd',
      sourceFile: `${root}/lib/systemd/system/amavisd-new-milter.service`,
    });
  });
});

describe('init scripts (Debian)', () => {
  it('reads SOCKET from /etc/default, which overrides the script', () => {
    const { root, found } = detectIn({
      '/etc/init.d/milter-greylist': initScript('milter-greylist', 'another spam-defense service', 'SOCKET=/var/run/milter-greylist.sock\nENABLED=1\n'),
      '/etc/default/milter-greylist': 'ENABLED=1\nSOCKET="/var/spool/postfix/milter-greylist/milter-greylist.sock"\n',
    });
    expect(only(found, 'milter-greylist')).toEqual({
      name: 'milter-greylist',
      description: 'another spam-defense service',
      connectionSpec: 'unix:/var/spool/postfix/milter-greylist/milter-greylist.sock',
      writtenSpec: '/var/spool/postfix/milter-greylist/milter-greylist.sock',
      enabled: true,
      service: 'init',
      serviceFile: `${root}/etc/init.d/milter-greylist`,
      source: 'init',
      sourceFile: `${root}/etc/default/milter-greylist`,
      sourceLine: 2,
      applicableConditions: ['Stress Notify', 'Trust', 'Remote Network', 'S25R', 'Unauthenticated'],
      notes: [],
    });
  });

  it('is disabled by ENABLED=0 (or no/false)', () => {
    for (const value of ['0', '"0"', 'no', 'false']) {
      const { root, found } = detectIn({
        '/etc/init.d/milter-greylist': initScript('milter-greylist', 'greylist', 'ENABLED=1\nSOCKET=/run/g.sock\n'),
        '/etc/default/milter-greylist': `# change to 1 to enable\nENABLED=${value}\n`,
      });
      const m = only(found, 'milter-greylist');
      expect(m.enabled).toBe(false);
      expect(m.connectionSpec).toBe('unix:/run/g.sock');
      expect(m.notes[0]).toMatch(new RegExp(`^disabled by ${root}/etc/default/milter-greylist:2`));
    }
  });

  it.each([
    ['OPTARGS', 'OPTARGS="-p inet:5000@localhost -u spf"'],
    ['DAEMON_ARGS', 'DAEMON_ARGS="-d -p inet:5000@localhost"'],
    ['PARAMS', "PARAMS='-p inet:5000@localhost'"],
    ['SOCKFILE', 'SOCKFILE=inet:5000@localhost'],
    ['CONNECTION_SPEC', 'CONNECTION_SPEC=inet:5000@localhost'],
  ])('reads the socket from %s', (_name, line) => {
    const { found } = detectIn({
      '/etc/init.d/spfmilter': initScript('spfmilter', 'SPF'),
      '/etc/default/spfmilter': `${line}\n`,
    });
    expect(only(found, 'spfmilter')).toMatchObject({ connectionSpec: 'inet:5000@localhost', source: 'init', sourceLine: 1, enabled: true });
  });

  it('takes the description from DESC when the LSB header has none', () => {
    const { found } = detectIn({ '/etc/init.d/dkim-filter': '#!/bin/sh\nDESC="DKIM Filter"\nSOCKET=/run/dkim.sock\n' });
    expect(only(found, 'dkim-filter').description).toBe('DKIM Filter');
  });

  it('honours start links when /etc/rc?.d exist', () => {
    const files = { '/etc/init.d/spfmilter': initScript('spfmilter', 'SPF', 'SOCKET=/run/spf.sock\n') };
    const stopped = detectIn({ ...files, '/etc/rc2.d/K01spfmilter': { link: '../init.d/spfmilter' }, '/etc/rc3.d/S01other': 'x' });
    expect(only(stopped.found, 'spfmilter').enabled).toBe(false);
    const started = detectIn({ ...files, '/etc/rc2.d/S01spfmilter': { link: '../init.d/spfmilter' } });
    expect(only(started.found, 'spfmilter').enabled).toBe(true);
  });

  it('reports an undefined variable or an unparsable spec as a problem', () => {
    const undefinedVar = detectIn({ '/etc/init.d/spfmilter': initScript('spfmilter', 'SPF', 'SOCKET=$RUNDIR/spf.sock\n') });
    expect(only(undefinedVar.found, 'spfmilter')).toMatchObject({ enabled: false, writtenSpec: '$RUNDIR/spf.sock' });
    expect(only(undefinedVar.found, 'spfmilter').problem).toContain('undefined shell variable');
    expect(only(undefinedVar.found, 'spfmilter').connectionSpec).toBeUndefined();

    const badPort = detectIn({ '/etc/init.d/spfmilter': initScript('spfmilter', 'SPF', 'SOCKET=inet:port@localhost\n') });
    expect(only(badPort.found, 'spfmilter').problem).toContain('is not a number');
  });
});

describe('Red Hat', () => {
  it('reads /usr/lib/systemd/system units with /etc/sysconfig environment files', () => {
    const { root, found } = detectIn(
      {
        '/usr/lib/systemd/system/spamass-milter.service': unit(
          'Mail filter for SpamAssassin',
          'EnvironmentFile=-/etc/sysconfig/spamass-milter\nExecStart=/usr/sbin/spamass-milter -p /run/spamass-milter/spamass-milter.sock -g sa-milt $EXTRA_FLAGS',
        ),
        '/etc/sysconfig/spamass-milter': '#EXTRA_FLAGS="-m -r 15"\n',
        [`${WANTS}/spamass-milter.service`]: 'x',
      },
      'redhat',
    );
    expect(only(found, 'spamass-milter')).toMatchObject({
      connectionSpec: 'unix:/run/spamass-milter/spamass-milter.sock',
      service: 'systemd',
      serviceFile: `${root}/usr/lib/systemd/system/spamass-milter.service`,
      source: 'systemd',
      sourceLine: 7,
      enabled: true,
    });
  });

  it('reads /etc/rc.d/init.d scripts with /etc/sysconfig, lower-case variables and rc links', () => {
    const script = `#!/bin/sh
#  init file for milter-greylist
#
# chkconfig: - 79 21
# description: Milter Greylist Daemon \\
#              for sendmail
#
socket="/var/milter-greylist/milter-greylist.sock"
OPTIONS="-u grmilter -P /var/milter-greylist/milter-greylist.pid -p $socket"
`;
    const files = {
      '/etc/rc.d/init.d/milter-greylist': script,
      '/etc/sysconfig/milter-greylist': '',
      '/etc/rc.d/rc3.d/S79milter-greylist': { link: '../init.d/milter-greylist' },
    };
    const { root, found } = detectIn(files, 'redhat');
    expect(only(found, 'milter-greylist')).toMatchObject({
      description: 'Milter Greylist Daemon for sendmail',
      connectionSpec: 'unix:/var/milter-greylist/milter-greylist.sock',
      service: 'init',
      source: 'init',
      sourceFile: `${root}/etc/rc.d/init.d/milter-greylist`,
      sourceLine: 9,
      enabled: true,
    });
    const { '/etc/rc.d/rc3.d/S79milter-greylist': _start, ...withoutStart } = files;
    const { found: off } = detectIn({ ...withoutStart, '/etc/rc.d/rc3.d/K21milter-greylist': 'x' }, 'redhat');
    expect(only(off, 'milter-greylist').enabled).toBe(false);
  });
});
