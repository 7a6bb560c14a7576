/** A milter's SysV init script plus /etc/default/NAME (Debian) or /etc/sysconfig/NAME (Red Hat). */
import { posix } from 'node:path';
import type { RootedFs } from './rooted-fs.js';
import { parseShellAssignments, type Located, type Variables } from './shell.js';
import type { Platform } from './types.js';

export interface InitScript {
  /** The init script, as a path on this machine. */
  readonly file: string;
  readonly description?: string;
  /** The script's assignments, then the defaults file's (which win). */
  readonly variables: Variables;
  /** ENABLED=0 (or no/false) found. */
  readonly disabledBy?: Located;
  /**
   * Start links: 'enabled' when an S??NAME link exists in an rc2.d–rc5.d directory, 'disabled' when such
   * directories exist but none has one, 'unknown' when there are no rc directories at all.
   */
  readonly links: 'enabled' | 'disabled' | 'unknown';
}

interface Layout {
  readonly scripts: readonly string[];
  readonly defaults: string;
  readonly rcRoots: readonly string[];
}

const LAYOUTS: Readonly<Record<Platform, Layout>> = {
  debian: { scripts: ['/etc/init.d'], defaults: '/etc/default', rcRoots: ['/etc'] },
  redhat: { scripts: ['/etc/rc.d/init.d', '/etc/init.d'], defaults: '/etc/sysconfig', rcRoots: ['/etc/rc.d', '/etc'] },
};

/** The init script NAME, or undefined when there is none. */
export function readInitScript(fs: RootedFs, platform: Platform, name: string): InitScript | undefined {
  const layout = LAYOUTS[platform];
  const scriptPath = layout.scripts.map((dir) => posix.join(dir, name)).find((p) => fs.isFile(p));
  if (scriptPath === undefined) return undefined;
  const text = fs.read(scriptPath) ?? '';
  const lowerCase = platform === 'redhat';
  const variables: Variables = new Map();
  parseShellAssignments(text, fs.real(scriptPath), variables, { lowerCase, fs });
  const defaultsPath = posix.join(layout.defaults, name);
  const defaults = fs.read(defaultsPath);
  if (defaults !== undefined) parseShellAssignments(defaults, fs.real(defaultsPath), variables, { lowerCase, fs });

  const enabled = variables.get('ENABLED');
  return {
    file: fs.real(scriptPath),
    description: describe(text, platform) ?? variables.get('DESC')?.value,
    variables,
    disabledBy: enabled !== undefined && /^(0|no|false)$/i.test(enabled.value.trim()) ? enabled : undefined,
    links: startLinks(fs, layout, name),
  };
}

/** LSB `Description:` (continued on `#  ` lines), else Red Hat's `# description:` tag (with `\` continuations). */
function describe(text: string, platform: Platform): string | undefined {
  const info = /^### BEGIN INIT INFO\r?\n([\s\S]*?)^### END INIT INFO/m.exec(text);
  if (info !== null) {
    const lines = (info[1] ?? '').split(/\r?\n/);
    const start = lines.findIndex((l) => /^#\s*Description:/.test(l));
    if (start !== -1) {
      const parts = [(lines[start] ?? '').replace(/^#\s*Description:\s*/, '')];
      for (const l of lines.slice(start + 1)) {
        if (!/^#(\t| {2,})/.test(l)) break;
        parts.push(l.slice(1).trim());
      }
      const text = parts.join(' ').replace(/\s+/g, ' ').trim();
      if (text.length > 0) return text;
    }
  }
  if (platform === 'redhat') {
    const lines = text.split(/\r?\n/);
    const start = lines.findIndex((l) => /^#\s*description:/.test(l));
    if (start !== -1) {
      const parts: string[] = [];
      for (let i = start; i < lines.length; i += 1) {
        const part = (lines[i] ?? '').replace(i === start ? /^#\s*description:\s*/ : /^#\s*/, '').trim();
        parts.push(part.replace(/\\$/, '').trim());
        if (!part.endsWith('\\')) break;
      }
      const joined = parts.join(' ').trim();
      if (joined.length > 0) return joined;
    }
  }
  return undefined;
}

function startLinks(fs: RootedFs, layout: Layout, name: string): InitScript['links'] {
  let anyDir = false;
  for (const rcRoot of layout.rcRoots) {
    for (const level of [2, 3, 4, 5]) {
      const dir = posix.join(rcRoot, `rc${level}.d`);
      if (!fs.isDirectory(dir)) continue;
      anyDir = true;
      if (fs.list(dir).some((entry) => entry.length === name.length + 3 && /^S\d\d/.test(entry) && entry.endsWith(name))) return 'enabled';
    }
  }
  return anyDir ? 'disabled' : 'unknown';
}
