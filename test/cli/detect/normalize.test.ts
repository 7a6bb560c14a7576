import { describe, expect, it } from 'vitest';
import { normalizeSocket } from '../../../src/cli/detect/index.js';

describe('normalizeSocket', () => {
  it.each([
    ['/var/run/clamav/clamav-milter.ctl', 'unix:/var/run/clamav/clamav-milter.ctl'],
    ['unix:/run/x.sock', 'unix:/run/x.sock'],
    ['local:/run/opendkim/opendkim.sock', 'unix:/run/opendkim/opendkim.sock'],
    ['LOCAL:/run/a.sock', 'unix:/run/a.sock'],
    ['unix:local:/run/a.sock', 'unix:/run/a.sock'],
    ['"/var/spool/postfix/spamass/spamass.sock"', 'unix:/var/spool/postfix/spamass/spamass.sock'],
    ['inet:8891@localhost', 'inet:8891@localhost'],
    ['inet:8891@127.0.0.1', 'inet:8891@127.0.0.1'],
    ['inet:8891@[127.0.0.1]', 'inet:8891@[127.0.0.1]'],
    ['inet:12345@192.0.2.1', 'inet:12345@192.0.2.1'],
    ['inet6:8891@[::1]', 'inet6:8891@[::1]'],
    ['inet:54321', 'inet:54321@[127.0.0.1]'],
    ['inet6:54321', 'inet6:54321@[::1]'],
    ['inet:localhost:8891', 'inet:8891@localhost'],
    ['inet:127.0.0.1:10026', 'inet:10026@127.0.0.1'],
    ['inet:[::1]:8891', 'inet:8891@[::1]'],
    ['localhost:11332', 'inet:11332@localhost'],
    ['127.0.0.1:11332', 'inet:11332@127.0.0.1'],
    ['[::1]:11332', 'inet:11332@[::1]'],
    ['*:11332', 'inet:11332@localhost'],
    ['*v4:11332', 'inet:11332@[127.0.0.1]'],
    ['*v6:11332', 'inet6:11332@[::1]'],
    ['/run/rspamd/milter.sock mode=0666 owner=_rspamd', 'unix:/run/rspamd/milter.sock'],
    ['  /run/padded.sock  ', 'unix:/run/padded.sock'],
  ])('%s → %s', (written, spec) => {
    expect(normalizeSocket(written)).toEqual({ spec });
  });

  it.each([
    ['', 'empty'],
    ['inet:notaport@localhost', 'port'],
    ['inet:70000@localhost', 'port'],
    ['tcp:1234@localhost', 'unknown type'],
    ['relative/path.sock', 'expected'],
    ['unix:', 'empty socket path'],
    ['local:$RUNDIR/opendkim.sock', 'undefined shell variable'],
    ['${SOCKET}', 'undefined shell variable'],
  ])('%j is reported, not thrown (%s)', (written, reason) => {
    const r = normalizeSocket(written);
    expect(r.spec).toBeUndefined();
    expect(r.problem).toContain(reason);
  });
});
