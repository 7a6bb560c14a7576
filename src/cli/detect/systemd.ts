/** A milter's systemd unit: Description, ExecStart, Environment(File), and whether it is enabled. */
import { posix } from 'node:path';
import type { RootedFs } from './rooted-fs.js';
import { parseShellAssignments, splitWords, type Located, type Variables } from './shell.js';
import type { Platform } from './types.js';

export interface SystemdUnit {
  /** The unit file, as a path on this machine. */
  readonly file: string;
  readonly description?: string;
  /** The last ExecStart= (a drop-in's empty ExecStart= clears earlier ones), as written. */
  readonly execStart?: Located;
  /** From Environment= and the EnvironmentFile= files, in order. */
  readonly variables: Variables;
  /** A `*.wants/NAME.service` link exists under /etc/systemd/system. */
  readonly wanted: boolean;
  /** /etc/systemd/system/NAME.service points to /dev/null. */
  readonly masked: boolean;
}

const ETC_UNITS = '/etc/systemd/system';

function unitDirs(platform: Platform): string[] {
  return platform === 'redhat'
    ? [ETC_UNITS, '/usr/lib/systemd/system', '/lib/systemd/system']
    : [ETC_UNITS, '/lib/systemd/system', '/usr/lib/systemd/system'];
}

/** The unit NAME.service, or undefined when no unit directory has it. */
export function readSystemdUnit(fs: RootedFs, platform: Platform, name: string): SystemdUnit | undefined {
  const base = `${name}.service`;
  let masked = false;
  let unitPath: string | undefined;
  for (const dir of unitDirs(platform)) {
    const path = posix.join(dir, base);
    if (dir === ETC_UNITS && fs.resolveLinks(path) === '/dev/null') {
      masked = true;
      continue;
    }
    if (fs.isFile(path)) {
      unitPath = path;
      break;
    }
  }
  if (unitPath === undefined) return undefined;

  const state: ParseState = { variables: new Map(), execStart: undefined, description: undefined, envFiles: [] };
  parseUnitFile(fs, unitPath, state);
  for (const dropIn of dropIns(fs, platform, base)) parseUnitFile(fs, dropIn, state);
  for (const envFile of state.envFiles) {
    const optional = envFile.startsWith('-');
    const path = optional ? envFile.slice(1) : envFile;
    if (!posix.isAbsolute(path)) continue;
    const text = fs.read(path);
    if (text !== undefined) parseShellAssignments(text, fs.real(path), state.variables, { lowerCase: true });
  }

  return {
    file: fs.real(unitPath),
    description: state.description,
    execStart: state.execStart,
    variables: state.variables,
    wanted: !masked && isWanted(fs, base),
    masked,
  };
}

interface ParseState {
  variables: Variables;
  execStart: Located | undefined;
  description: string | undefined;
  envFiles: string[];
}

function parseUnitFile(fs: RootedFs, path: string, state: ParseState): void {
  const text = fs.read(path);
  if (text === undefined) return;
  const file = fs.real(path);
  let section = '';
  const raw = text.split(/\r?\n/);
  for (let i = 0; i < raw.length; i += 1) {
    const lineNumber = i + 1;
    let line = (raw[i] ?? '').trim();
    while (line.endsWith('\\') && i + 1 < raw.length) {
      i += 1;
      line = `${line.slice(0, -1)} ${(raw[i] ?? '').trim()}`;
    }
    if (line.length === 0 || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header !== null) {
      section = header[1] ?? '';
      continue;
    }
    const kv = /^([A-Za-z]+)\s*=\s*(.*)$/.exec(line);
    if (kv === null) continue;
    const key = kv[1] ?? '';
    const value = (kv[2] ?? '').trim();
    if (section === 'Unit' && key === 'Description') {
      state.description = value;
    } else if (section === 'Service') {
      if (key === 'ExecStart') {
        state.execStart = value.length === 0 ? undefined : { value, file, line: lineNumber };
      } else if (key === 'EnvironmentFile') {
        if (value.length === 0) state.envFiles = [];
        else state.envFiles.push(value);
      } else if (key === 'Environment') {
        for (const assignment of splitWords(value)) {
          const eq = assignment.indexOf('=');
          if (eq > 0) state.variables.set(assignment.slice(0, eq), { value: assignment.slice(eq + 1), file, line: lineNumber });
        }
      }
    }
  }
}

/** NAME.service.d/*.conf from every unit directory, by file name; /etc wins over the vendor's same name. */
function dropIns(fs: RootedFs, platform: Platform, base: string): string[] {
  const byName = new Map<string, string>();
  for (const dir of [...unitDirs(platform)].reverse()) {
    const d = posix.join(dir, `${base}.d`);
    for (const entry of fs.list(d)) if (entry.endsWith('.conf')) byName.set(entry, posix.join(d, entry));
  }
  return [...byName.keys()].sort().map((k) => byName.get(k) ?? '');
}

function isWanted(fs: RootedFs, base: string): boolean {
  if (fs.lexists(posix.join(ETC_UNITS, 'multi-user.target.wants', base))) return true;
  return fs
    .list(ETC_UNITS)
    .filter((entry) => entry.endsWith('.wants') && entry !== 'multi-user.target.wants')
    .some((entry) => fs.lexists(posix.join(ETC_UNITS, entry, base)));
}
