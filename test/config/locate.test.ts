import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { parentPath } from '../../src/config/key-path.js';
import { TomlLocator } from '../../src/config/locate.js';

const TEXT = `# comment [not a table]
title = "x" # [manager]

[manager]
connection_spec = "unix:/x"
"quoted.key" = 1
'literal' = 2
dotted.inner = 3
multi = """
line
with ""quotes"" and [brackets]
"""
after_multi = true
lit_multi = '''
a
'''
arr = [
  1,   # one
  [2, 3],
  { a = 1, b = [4,
    5] },
]

[[milter]]
name = "first"

[milter.sub]
x = 1

[[milter]]
name = "second"
[[milter]]
inline = { k = "v", n = { m = 1 } }

[a."b.c".d]
e = 1
`;

describe('TomlLocator', () => {
  const loc = new TomlLocator(TEXT);

  it('indexes a valid TOML document', () => {
    expect(() => parse(TEXT)).not.toThrow();
  });

  it.each<[string, number | undefined]>([
    ['title', 2],
    ['manager', 4],
    ['manager.connection_spec', 5],
    ['manager."quoted.key"', 6],
    ['manager.literal', 7],
    ['manager.dotted', 8],
    ['manager.dotted.inner', 8],
    ['manager.multi', 9],
    ['manager.after_multi', 13],
    ['manager.lit_multi', 14],
    ['manager.arr', 17],
    ['manager.arr[0]', 18],
    ['manager.arr[1]', 19],
    ['manager.arr[1][1]', 19],
    ['manager.arr[2]', 20],
    ['manager.arr[2].b[1]', 21],
    ['milter', 24],
    ['milter[0]', 24],
    ['milter[0].name', 25],
    ['milter[0].sub', 27],
    ['milter[0].sub.x', 28],
    ['milter[1]', 30],
    ['milter[1].name', 31],
    ['milter[2]', 32],
    ['milter[2].inline.n.m', 33],
    ['a."b.c".d', 35],
    ['a."b.c".d.e', 36],
  ])('%s is on line %s', (path, line) => {
    expect(loc.line(path)).toBe(line);
    expect(loc.has(path)).toBe(true);
  });

  it('falls back to the nearest ancestor', () => {
    expect(loc.has('milter[1].fallback_status')).toBe(false);
    expect(loc.line('milter[1].fallback_status')).toBe(30);
    expect(loc.line('manager.arr[7]')).toBe(17);
    expect(loc.line('nothing.here')).toBeUndefined();
  });

  it('never throws on text it cannot scan, keeping what it found', () => {
    const partial = new TomlLocator('[manager]\nx = 1\n= broken\n');
    expect(partial.line('manager.x')).toBe(2);
    expect(() => new TomlLocator('"""')).not.toThrow();
  });

  it('counts CRLF line ends', () => {
    expect(new TomlLocator('[manager]\r\n\r\nx = 1\r\n').line('manager.x')).toBe(3);
  });
});

describe('parentPath', () => {
  it.each<[string, string | undefined]>([
    ['a.b[2]', 'a.b'],
    ['a.b', 'a'],
    ['a', ''],
    ['', undefined],
    ['manager."odd.key"', 'manager'],
    ['"odd.key"', ''],
  ])('%s → %s', (path, parent) => {
    expect(parentPath(path)).toBe(parent);
  });
});
