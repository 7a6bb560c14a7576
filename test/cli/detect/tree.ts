/** Fake system trees for the detection tests. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';
import { detectMilters, type DetectedMilter, type Platform } from '../../../src/cli/detect/index.js';

export type Entry = string | { readonly link: string } | { readonly text: string; readonly mode: number } | { readonly dir: true };

const made: string[] = [];

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temporary root holding `files` (system path → content, symlink, executable, or directory). */
export function tree(files: Readonly<Record<string, Entry>>): string {
  const root = mkdtempSync(join(tmpdir(), 'mailgate-detect-'));
  made.push(root);
  for (const [path, entry] of Object.entries(files)) {
    const real = join(root, path);
    mkdirSync(dirname(real), { recursive: true });
    if (typeof entry === 'string') writeFileSync(real, entry);
    else if ('link' in entry) symlinkSync(entry.link, real);
    else if ('dir' in entry) mkdirSync(real, { recursive: true });
    else {
      writeFileSync(real, entry.text);
      chmodSync(real, entry.mode);
    }
  }
  return root;
}

/** Detection in a fresh tree (Debian unless told). */
export function detectIn(files: Readonly<Record<string, Entry>>, platform: Platform = 'debian'): { root: string; found: DetectedMilter[] } {
  const root = tree(files);
  return { root, found: detectMilters({ root, platform }) };
}

/** The one detected milter called `name` (fails the test when absent). */
export function only(found: readonly DetectedMilter[], name: string): DetectedMilter {
  const m = found.find((f) => f.name === name);
  if (m === undefined) throw new Error(`${name} not detected (found: ${found.map((f) => f.name).join(', ') || 'nothing'})`);
  return m;
}

/** A systemd [Service] unit. */
export function unit(description: string, service: string): string {
  return `[Unit]\nDescription=${description}\nAfter=network.target\n\n[Service]\n${service}\n\n[Install]\nWantedBy=multi-user.target\n`;
}

export const WANTS = '/etc/systemd/system/multi-user.target.wants';

/** An LSB init script with a few variable lines. */
export function initScript(name: string, description: string, body = ''): string {
  return `#!/bin/sh
### BEGIN INIT INFO
# Provides:          ${name}
# Required-Start:    $remote_fs $syslog
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: ${name}
# Description:       ${description}
### END INIT INFO

PATH=/sbin:/bin:/usr/sbin:/usr/bin
NAME=${name}
DAEMON=/usr/sbin/${name}
${body}
case "$1" in
  start) start-stop-daemon --start --exec $DAEMON -- $OPTIONS ;;
esac
exit 0
`;
}
