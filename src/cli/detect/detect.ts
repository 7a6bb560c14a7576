/**
 * Auto-detection of installed milters, after milter-manager's Debian and Red Hat detectors: for each
 * candidate, its systemd unit (used when enabled), else its init script, and the socket from the command
 * line, the service's variables or the milter's own configuration file.
 */
import { readClamavMilterConf, readGreylistConf, readOpendkimConf, readRspamdProxy } from './app-config.js';
import { CANDIDATES, OPTION_VARIABLES, SOCKET_VARIABLES, type Candidate } from './candidates.js';
import { readInitScript, type InitScript } from './init.js';
import { normalizeSocket } from './normalize.js';
import { RootedFs } from './rooted-fs.js';
import { expand, optionValue, rawOptionValue, splitWords, type Located, type Variables } from './shell.js';
import { readSystemdUnit, type SystemdUnit } from './systemd.js';
import type { DetectedMilter, DetectOptions, Platform, ServiceKind, SocketSource } from './types.js';

/** Rspamd's proxy worker listens here unless configured otherwise (Debian's rspamd.conf). */
const RSPAMD_DEFAULT_BIND_SOCKET = 'localhost:11332';

/** The milters installed below `options.root` (default "/"), in milter-manager's candidate order. Never throws. */
export function detectMilters(options: DetectOptions = {}): DetectedMilter[] {
  const fs = new RootedFs(options.root ?? '/');
  const platform = options.platform ?? detectPlatform(fs);
  const found: DetectedMilter[] = [];
  for (const candidate of CANDIDATES) {
    try {
      const milter = detectOne(fs, platform, candidate);
      if (milter !== undefined) found.push(milter);
    } catch {
      // A file shaped like nothing we expect must not stop the other candidates.
    }
  }
  return found;
}

/** debian when /etc/debian_version exists below the root, redhat when /etc/redhat-release does, else debian. */
export function detectPlatform(fs: RootedFs): Platform {
  if (fs.lexists('/etc/debian_version')) return 'debian';
  if (fs.lexists('/etc/redhat-release')) return 'redhat';
  return 'debian';
}

/** A socket as found, before normalisation. */
interface FoundSocket {
  readonly value: string;
  readonly source: SocketSource;
  readonly file: string;
  readonly line?: number;
}

/** The outcome of one service's search. */
interface Search {
  socket?: FoundSocket;
  /** Why the service cannot run as configured (clamav-milter's Example line). */
  blocker?: string;
  /** Why no socket could be found, when that has a specific reason. */
  missing?: string;
  notes: string[];
  tarpitSeconds?: number;
}

function detectOne(fs: RootedFs, platform: Platform, candidate: Candidate): DetectedMilter | undefined {
  const unit = readSystemdUnit(fs, platform, candidate.name);
  const init = readInitScript(fs, platform, candidate.name);
  if (unit === undefined && init === undefined) return undefined;

  if (unit !== undefined) {
    const search = searchSystemd(fs, platform, candidate, unit);
    // milter-manager: a systemd unit counts only when it is enabled and names a socket; else the init script.
    if ((unit.wanted && search.socket !== undefined && search.blocker === undefined) || init === undefined) {
      const notes = [...search.notes];
      if (unit.masked) notes.push('the systemd unit is masked');
      else if (!unit.wanted) notes.push('the systemd unit is not enabled (no .wants link in /etc/systemd/system)');
      return result(candidate, 'systemd', unit.file, unit.description, unit.wanted, search, notes);
    }
  }
  if (init === undefined) return undefined;
  const search = searchInit(fs, platform, candidate, init);
  const notes = [...search.notes];
  let enabled = init.disabledBy === undefined && init.links !== 'disabled';
  if (init.disabledBy !== undefined) notes.push(`disabled by ${init.disabledBy.file}:${init.disabledBy.line} (ENABLED=${init.disabledBy.value})`);
  else if (init.links === 'disabled') notes.push('the init script has no start link in /etc/rc[2-5].d');
  if (unit !== undefined && !unit.wanted) {
    // The systemd unit decides whether the service starts, even when the init script names the socket.
    enabled = false;
    notes.push(`the systemd unit ${unit.file} is ${unit.masked ? 'masked' : 'not enabled'}`);
  }
  return result(candidate, 'init', init.file, init.description, enabled, search, notes);
}

function result(
  candidate: Candidate,
  service: ServiceKind,
  serviceFile: string,
  description: string | undefined,
  serviceEnabled: boolean,
  search: Search,
  notes: string[],
): DetectedMilter {
  const base = {
    name: candidate.name,
    ...(description !== undefined && description.length > 0 ? { description } : {}),
    service,
    serviceFile,
    applicableConditions: [...candidate.conditions],
    ...(search.tarpitSeconds !== undefined ? { tarpitSeconds: search.tarpitSeconds } : {}),
    notes,
  };
  const socket = search.socket;
  if (socket === undefined) {
    const problem = search.blocker ?? search.missing ?? 'no socket found';
    return { ...base, enabled: false, source: service, sourceFile: serviceFile, problem };
  }
  const where = { source: socket.source, sourceFile: socket.file, ...(socket.line !== undefined ? { sourceLine: socket.line } : {}) };
  const normalized = normalizeSocket(socket.value);
  const problem = search.blocker ?? normalized.problem;
  return {
    ...base,
    ...where,
    writtenSpec: socket.value,
    ...(normalized.spec !== undefined && search.blocker === undefined ? { connectionSpec: normalized.spec } : {}),
    enabled: serviceEnabled && problem === undefined,
    ...(problem !== undefined ? { problem } : {}),
  };
}

function located(l: Located, source: SocketSource): FoundSocket {
  return { value: l.value, source, file: l.file, line: l.line };
}

/** The command line's words without systemd's prefixes ("-", "@", "+", "!", "!!") on the program. */
function commandWords(execStart: string): string[] {
  const words = splitWords(execStart);
  if (words[0] !== undefined) words[0] = words[0].replace(/^[-@+!:]+/, '');
  return words;
}

/** The socket option of an ExecStart=; `-p $SOCKET` is reported where SOCKET was set. */
function socketFromExecStart(execStart: Located, option: string, vars: Variables): FoundSocket | undefined {
  const raw = rawOptionValue(commandWords(execStart.value), option);
  if (raw === undefined) return undefined;
  const reference = /^\$\{?([A-Za-z0-9_]+)\}?$/.exec(raw);
  if (reference !== null) {
    const variable = vars.get(reference[1] ?? '');
    return variable === undefined ? undefined : located(variable, 'systemd');
  }
  return { value: expand(raw, vars), source: 'systemd', file: execStart.file, line: execStart.line };
}

function searchSystemd(fs: RootedFs, platform: Platform, candidate: Candidate, unit: SystemdUnit): Search {
  const search: Search = { notes: [] };
  const vars = unit.variables;
  const words = unit.execStart === undefined ? [] : commandWords(expand(unit.execStart.value, vars));
  // 1. The command line: it overrides the milter's own file.
  if (candidate.socketOption !== undefined && unit.execStart !== undefined) {
    search.socket = socketFromExecStart(unit.execStart, candidate.socketOption, vars);
  }
  // 2. The milter's own file (its path from the command line when given there).
  if (candidate.app !== undefined) appSocket(fs, platform, candidate, search, words, vars, unit.file, 'systemd');
  // 3. SOCKET= and friends from Environment= / EnvironmentFile=.
  for (const name of SOCKET_VARIABLES) {
    const v = vars.get(name);
    if (search.socket === undefined && v !== undefined && v.value.trim().length > 0 && candidate.app !== 'rspamd') {
      search.socket = located(v, 'systemd');
    }
  }
  return search;
}

function searchInit(fs: RootedFs, platform: Platform, candidate: Candidate, init: InitScript): Search {
  const search: Search = { notes: [] };
  const vars = init.variables;
  const fromOptions = (names: readonly string[]) => {
    for (const name of names) {
      const v = vars.get(name);
      if (search.socket !== undefined || v === undefined || candidate.socketOption === undefined) continue;
      const value = optionValue(splitWords(v.value), candidate.socketOption);
      if (value !== undefined) search.socket = { value, source: 'init', file: v.file, line: v.line };
    }
  };
  const optionWords = OPTION_VARIABLES.flatMap((n) => splitWords(vars.get(n)?.value ?? ''));

  fromOptions(candidate.overridingOptionVariables ?? []);
  if (candidate.app !== undefined && candidate.appFirstForInit === true) appSocket(fs, platform, candidate, search, optionWords, vars, init.file, 'init');
  if (candidate.app !== 'rspamd') {
    for (const name of SOCKET_VARIABLES) {
      const v = vars.get(name);
      if (search.socket === undefined && v !== undefined && v.value.trim().length > 0) search.socket = located(v, 'init');
    }
    fromOptions(OPTION_VARIABLES);
  }
  if (candidate.app !== undefined && candidate.appFirstForInit !== true) appSocket(fs, platform, candidate, search, optionWords, vars, init.file, 'init');
  return search;
}

/**
 * Reads the milter's own configuration file into `search`: the socket when none was found yet, and
 * what else the file decides (clamav-milter's Example line, milter-greylist's tarpit).
 */
function appSocket(
  fs: RootedFs,
  platform: Platform,
  candidate: Candidate,
  search: Search,
  words: readonly string[],
  vars: Variables,
  serviceFile: string,
  service: ServiceKind,
): void {
  const setSocket = (l: Located | undefined) => {
    if (l !== undefined && search.socket === undefined) search.socket = located(l, 'config');
  };
  switch (candidate.app) {
    case 'clamav-milter': {
      // CLAMAVCONF names clamav-milter's own file only since 0.95 (before, it was clamd.conf).
      const clamavConf = vars.get('CLAMAVCONF')?.value;
      const fromVars = vars.get('CLAMAVMILTERCONF')?.value ?? (clamavConf?.includes('clamav-milter') === true ? clamavConf : undefined);
      const path = optionValue(words, '-c', '--config-file') ?? fromVars;
      const paths = path !== undefined ? [path] : platform === 'redhat' ? ['/etc/mail/clamav-milter.conf', '/etc/clamav/clamav-milter.conf'] : ['/etc/clamav/clamav-milter.conf', '/etc/mail/clamav-milter.conf'];
      const conf = paths.map((p) => readClamavMilterConf(fs, p)).find((c) => c !== undefined);
      if (conf === undefined) return;
      if (conf.exampleLine !== undefined) {
        search.blocker = `${conf.file}:${conf.exampleLine} still has the "Example" line: clamav-milter will not start and its MilterSocket is ignored`;
        return;
      }
      setSocket(conf.milterSocket);
      if (conf.milterSocket === undefined) search.missing ??= `${conf.file} has no MilterSocket`;
      return;
    }
    case 'milter-greylist': {
      const path = optionValue(words, '-f');
      const paths = path !== undefined ? [path] : platform === 'redhat' ? ['/etc/mail/greylist.conf', '/etc/milter-greylist/greylist.conf'] : ['/etc/milter-greylist/greylist.conf', '/etc/mail/greylist.conf'];
      const conf = paths.map((p) => readGreylistConf(fs, p)).find((c) => c !== undefined);
      if (conf === undefined) return;
      setSocket(conf.socket);
      if (conf.maxTarpit !== undefined) search.tarpitSeconds = conf.maxTarpit;
      return;
    }
    case 'opendkim': {
      const path = optionValue(words, '-x') ?? '/etc/opendkim.conf';
      setSocket(readOpendkimConf(fs, path)?.socket);
      return;
    }
    case 'rspamd': {
      const proxy = readRspamdProxy(fs);
      if (proxy.milterOff !== undefined) {
        search.blocker = `rspamd's proxy worker is not in milter mode (milter = ${proxy.milterOff.value} at ${proxy.milterOff.file}:${proxy.milterOff.line})`;
        return;
      }
      if (proxy.bindSocket !== undefined) {
        setSocket(proxy.bindSocket);
      } else if (search.socket === undefined) {
        const conf = '/etc/rspamd/rspamd.conf';
        search.socket = fs.isFile(conf)
          ? { value: RSPAMD_DEFAULT_BIND_SOCKET, source: 'config', file: fs.real(conf) }
          : { value: RSPAMD_DEFAULT_BIND_SOCKET, source: service, file: serviceFile };
        search.notes.push(`no bind_socket for the proxy worker found: using rspamd's default ${RSPAMD_DEFAULT_BIND_SOCKET}`);
      }
      return;
    }
    default:
      return;
  }
}
