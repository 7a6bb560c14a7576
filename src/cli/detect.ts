/** `mailgate detect`: the milters installed on this host, as auto-detection (manager.detect) finds them. */
import { Command, Option } from 'commander';
import { detectMilters, type DetectedMilter, type Platform } from './detect/index.js';

/** One block per milter: name, connection spec, enabled, where it was found, conditions (and any problem). */
export function formatDetected(milters: readonly DetectedMilter[]): string {
  if (milters.length === 0) return 'no milters found\n';
  return milters.map(formatOne).join('\n');
}

function formatOne(m: DetectedMilter): string {
  const rows: [string, string][] = [
    ['connection spec', m.connectionSpec ?? (m.writtenSpec !== undefined ? `(unusable: ${m.writtenSpec})` : '(none)')],
    ['enabled', m.enabled ? 'yes' : 'no'],
    ['service', `${m.service} ${m.serviceFile}`],
    ['found in', `${m.source} ${m.sourceFile}${m.sourceLine !== undefined ? `:${m.sourceLine}` : ''}`],
    ['conditions', m.applicableConditions.length > 0 ? m.applicableConditions.join(', ') : '(none)'],
  ];
  if (m.tarpitSeconds !== undefined) rows.push(['tarpit', `${m.tarpitSeconds}s (added to the reading and writing timeouts)`]);
  if (m.problem !== undefined) rows.push(['problem', m.problem]);
  for (const note of m.notes) rows.push(['note', note]);
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  const head = m.description !== undefined ? `${m.name} (${m.description})` : m.name;
  return `${head}\n${rows.map(([k, v]) => `  ${`${k}:`.padEnd(width)} ${v}`).join('\n')}\n`;
}

export function detectCommand(): Command {
  return new Command('detect')
    .description('list the milters installed on this host (systemd units, init scripts and their configuration files)')
    .option('--root <dir>', 'look below this directory instead of /', '/')
    .addOption(new Option('--platform <name>', 'file layout (default: from /etc/debian_version or /etc/redhat-release)').choices(['debian', 'redhat']))
    .option('--json', 'print the detected milters as JSON')
    .action((options: { root: string; platform?: Platform; json?: boolean }) => {
      const milters = detectMilters({ root: options.root, ...(options.platform !== undefined ? { platform: options.platform } : {}) });
      process.stdout.write(options.json === true ? `${JSON.stringify(milters, null, 2)}\n` : formatDetected(milters));
    });
}
