import { describe, expect, it } from 'vitest';
import { RootedFs } from '../../../src/cli/detect/rooted-fs.js';
import { expand, optionValue, parseShellAssignments, rawOptionValue, splitWords, stripComment, type Variables } from '../../../src/cli/detect/shell.js';
import { tree } from './tree.js';

function parse(text: string, root?: string, lowerCase = false): Record<string, string> {
  const vars: Variables = new Map();
  parseShellAssignments(text, '/f', vars, { lowerCase, ...(root !== undefined ? { fs: new RootedFs(root) } : {}) });
  return Object.fromEntries([...vars].map(([k, v]) => [k, v.value]));
}

describe('shell assignments', () => {
  it('reads NAME=value lines, unquotes, expands earlier variables, last one wins, records lines', () => {
    const vars: Variables = new Map();
    parseShellAssignments('RUNDIR=/run/x\n# SOCKET=/commented\nSOCKET="local:$RUNDIR/a.sock"  # trailing\nSOCKET=\'${RUNDIR}/b.sock\'\nexport PID=$RUNDIR/$NAME.pid\n', '/etc/default/x', vars);
    expect(vars.get('SOCKET')).toEqual({ value: '/run/x/b.sock', file: '/etc/default/x', line: 4 });
    expect(vars.get('PID')?.value).toBe('/run/x/$NAME.pid');
    expect(vars.has('RUNDIR')).toBe(true);
  });

  it('takes upper-case names only unless told (Red Hat)', () => {
    expect(parse('socket="/a"\nOPTIONS="-u x"\n')).toEqual({ OPTIONS: '-u x' });
    expect(parse('socket="/a"\n', undefined, true)).toEqual({ socket: '/a' });
  });

  it('keeps # inside quotes and values', () => {
    expect(parse('DESC="a # b"\nX=a#b\n')).toEqual({ DESC: 'a # b', X: 'a#b' });
    expect(stripComment('A=1 # c')).toBe('A=1 ');
  });

  it('skips assignments under a file test that is false on the inspected system', () => {
    const script = `SOCKET=/var/run/spamass/spamass.sock
if [ -e /etc/mail/sendmail.cf ] && egrep -q 'x' /etc/mail/sendmail.cf; then
    SOCKET=/var/run/sendmail/spamass.sock
fi;
if [ -x /usr/sbin/postfix ]; then
    SOCKET="/var/spool/postfix/spamass/spamass.sock"
fi;
`;
    const without = tree({ '/etc/debian_version': '12\n' });
    expect(parse(script, without).SOCKET).toBe('/var/run/spamass/spamass.sock');
    const withPostfix = tree({ '/usr/sbin/postfix': { text: '#!/bin/sh\n', mode: 0o755 } });
    expect(parse(script, withPostfix).SOCKET).toBe('/var/spool/postfix/spamass/spamass.sock');
    const notExecutable = tree({ '/usr/sbin/postfix': { text: 'x', mode: 0o644 } });
    expect(parse(script, notExecutable).SOCKET).toBe('/var/run/spamass/spamass.sock');
    // Without a file system every test may be true: the last assignment wins (milter-manager's behaviour).
    expect(parse(script).SOCKET).toBe('/var/spool/postfix/spamass/spamass.sock');
  });

  it('handles else, elif, negation, nesting, one-line ifs and unknown conditions', () => {
    const root = tree({ '/present': 'x' });
    const script = `if [ -f /absent ]; then
  A=1
elif [ -f /present ]; then
  A=2
else
  A=3
fi
if [ ! -e /present ]
then
  B=1
else
  B=2
fi
if [ -f /present ]; then
  if [ -d /absent ]; then C=inner; fi
  D=outer
fi
if [ -n "$X" ]; then E=maybe; fi
if [ -f /absent ]; then F=no; fi
if [ "$Y" = y ]; then
  G=1
else
  G=2
fi
`;
    expect(parse(script, root)).toEqual({ A: '2', B: '2', D: 'outer', E: 'maybe', G: '2' });
  });

  it('expands only known variables', () => {
    const vars: Variables = new Map([['A', { value: 'x', file: '/f', line: 1 }]]);
    expect(expand('$A/${A}/$B/${B}', vars)).toBe('x/x/$B/${B}');
  });
});

describe('command lines', () => {
  it('splits words like a shell', () => {
    expect(splitWords(`a "b c" 'd e' f\\ g "h\\"i" ''`)).toEqual(['a', 'b c', 'd e', 'f g', 'h"i', '']);
    expect(splitWords('unbalanced "quote here')).toEqual(['unbalanced', 'quote here']);
    expect(splitWords('')).toEqual([]);
  });

  it('finds an option value the way milter-manager does', () => {
    expect(optionValue(splitWords('-u x -p /run/a.sock -P /run/a.pid'), '-p')).toBe('/run/a.sock');
    expect(optionValue(splitWords('-p /first -p /last'), '-p')).toBe('/last');
    expect(optionValue(splitWords('-punix:/glued'), '-p')).toBe('unix:/glued');
    expect(optionValue(splitWords('-p $SOCKET'), '-p')).toBeUndefined();
    expect(rawOptionValue(splitWords('-p $SOCKET'), '-p')).toBe('$SOCKET');
    expect(optionValue(splitWords('--config-file=/etc/c.conf'), '-c', '--config-file')).toBe('/etc/c.conf');
    expect(optionValue(splitWords('--config-file /etc/c.conf'), '-c', '--config-file')).toBe('/etc/c.conf');
    expect(optionValue(splitWords('--pidfile /x -P /y'), '-p')).toBeUndefined();
    expect(optionValue(splitWords('-p'), '-p')).toBeUndefined();
  });
});
