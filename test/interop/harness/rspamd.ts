// A private, offline rspamd (Debian's 3.4) with only its normal worker, on
// 127.0.0.1:PORT and a unix socket, everything in a temp dir.
//
// The configuration is written fresh and does NOT include /etc/rspamd: a
// top-level rspamd.conf with
// - no controller, no proxy, no fuzzy worker; one normal worker (count 1);
// - `options.filters = ""`: none of the C modules (dkim, fuzzy_check,
//   chartable, regexp); Lua plugins load from ${PLUGINSDIR} but rspamd
//   disables every plugin that has no configuration section ("disabling
//   unconfigured lua module"), so only `milter_headers` runs: no DNS
//   blacklists, no SPF/DKIM/DMARC lookups, no fuzzy, no URL or map fetches;
// - DNS pointed at 127.0.0.1:1 (nothing listens) as a safety net;
// - a six-line url_tld file instead of the 9600-suffix public list, whose
//   compilation alone takes ~12 s on this machine (startup is then ~0.8 s);
// - pid, db, hyperscan cache, temp files and the log in the temp dir;
// - GTUBE needs nothing: rspamd's message parser recognises it and answers
//   `reject` with smtp_message "Gtube pattern";
// - test hooks (TMP/test.lua): a message header `X-Mailgate-Test-Score: N`
//   scores N, `X-Mailgate-Test-Action: ACTION` forces ACTION (pre-result), so
//   every action can be produced by a real rspamd;
// - actions: greylist 4, add header 6, rewrite subject 8 ("***SPAM*** %s"),
//   reject 15 (rspamd's stock thresholds plus rewrite_subject);
// - milter_headers with extended_spam_headers, skip_local/skip_authenticated
//   off, so ham gets a real `milter` block (X-Spamd-Result, X-Rspamd-Server,
//   X-Rspamd-Queue-Id, X-Rspamd-Action, X-Spam-Status).
//
// Root: rspamd refuses to run workers as root; the main process then gets
// `-u _rspamd -g _rspamd` (the Debian package's user) and the temp dir is
// handed to that user.
import { execFileSync } from 'node:child_process';
import { access, chown, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { startDaemon, waitFor, type Daemon } from './process.js';
import { makeTempDir } from './tmpdir.js';

export const RSPAMD = '/usr/bin/rspamd';
export const RSPAMD_USER = '_rspamd';
/** The GTUBE line; rspamd answers `reject` for a message that contains it. */
export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
/** rspamd's smtp_message for GTUBE. */
export const GTUBE_MESSAGE = 'Gtube pattern';
/** Message header whose number becomes the score (see test.lua). */
export const TEST_SCORE_HEADER = 'X-Mailgate-Test-Score';
/** Message header whose value is forced as the action, with smtp_message "forced by test". */
export const TEST_ACTION_HEADER = 'X-Mailgate-Test-Action';
export const ACTION_THRESHOLDS = { greylist: 4, addHeader: 6, rewriteSubject: 8, reject: 15 } as const;

const TEST_LUA = `
rspamd_config:register_symbol({
  name = 'MAILGATE_TEST_SCORE',
  score = 1.0,
  callback = function(task)
    local h = task:get_header('${TEST_SCORE_HEADER}')
    if h then return true, tonumber(h) or 0, 'score ' .. h end
    return false
  end,
})
rspamd_config:register_symbol({
  name = 'MAILGATE_TEST_ACTION',
  type = 'prefilter',
  priority = 10,
  callback = function(task)
    local h = task:get_header('${TEST_ACTION_HEADER}')
    if h then task:set_pre_result(h, 'forced by test') end
  end,
})
`;

export interface Rspamd {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** The normal worker's unix socket. */
  readonly socketPath: string;
  readonly daemon: Daemon;
  readonly startupMs: number;
  /** rspamd's log file so far. */
  log(): Promise<string>;
  stop(): Promise<void>;
}

function idOf(flag: '-u' | '-g', user: string): number {
  return Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/ping', method: 'GET', agent: false, timeout: 500 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('pong')));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export async function startRspamd(): Promise<Rspamd> {
  try {
    await access(RSPAMD);
  } catch {
    throw new Error(`rspamd is not installed (${RSPAMD} is missing): run scripts/install-test-peers.sh (Debian package "rspamd")`);
  }
  const asRoot = process.getuid?.() === 0;
  const tmp = await makeTempDir('rspamd');
  const [db, run, logs] = await Promise.all([tmp.sub('db'), tmp.sub('run'), tmp.sub('log')]);
  const port = await freePort();
  const socketPath = join(run, 'normal.sock');
  const logFile = join(logs, 'rspamd.log');
  const conf = join(tmp.path, 'rspamd.conf');
  try {
    await writeFile(join(tmp.path, 'tld.dat'), 'com\norg\nnet\nexample\ninvalid\ntest\n');
    await writeFile(join(tmp.path, 'test.lua'), TEST_LUA);
    await writeFile(
      conf,
      `options {
  pidfile = "${run}/rspamd.pid";
  filters = "";
  dbdir = "${db}";
  tempdir = "${run}";
  cache_file = "${db}/symbols.cache";
  hs_cache_dir = "${db}/";
  url_tld = "${tmp.path}/tld.dat";
  allow_raw_input = true;
  task_timeout = 8s;
  local_addrs = [];
  dns { nameserver = ["127.0.0.1:1"]; timeout = 0.2s; retransmits = 1; }
}
logging { type = "file"; filename = "${logFile}"; level = "info"; }
actions {
  reject = ${ACTION_THRESHOLDS.reject};
  rewrite_subject = ${ACTION_THRESHOLDS.rewriteSubject};
  add_header = ${ACTION_THRESHOLDS.addHeader};
  greylist = ${ACTION_THRESHOLDS.greylist};
  subject = "***SPAM*** %s";
}
lua = "${tmp.path}/test.lua";
worker "normal" {
  bind_socket = "127.0.0.1:${port}";
  bind_socket = "${socketPath} mode=0666";
  count = 1;
  mime = true;
}
modules { path = "\${PLUGINSDIR}"; }
milter_headers {
  extended_spam_headers = true;
  use = ["x-spamd-result", "x-rspamd-server", "x-spam-status"];
  skip_local = false;
  skip_authenticated = false;
}
`,
    );
    if (asRoot) {
      let uid: number;
      let gid: number;
      try {
        uid = idOf('-u', RSPAMD_USER);
        gid = idOf('-g', RSPAMD_USER);
      } catch {
        throw new Error(`running as root, but the user ${RSPAMD_USER} (created by Debian's rspamd package) does not exist; rspamd refuses to run its workers as root`);
      }
      for (const p of [tmp.path, db, run, logs, conf, join(tmp.path, 'tld.dat'), join(tmp.path, 'test.lua')]) await chown(p, uid, gid);
    }
  } catch (err) {
    await tmp.remove();
    throw err;
  }

  const args = ['-f', '-c', conf, ...(asRoot ? ['-u', RSPAMD_USER, '-g', RSPAMD_USER] : [])];
  const t0 = Date.now();
  const daemon = startDaemon('rspamd', RSPAMD, args);
  const log = (): Promise<string> => readFile(logFile, 'utf8').catch(() => '(no log file)');
  const stop = async (): Promise<void> => {
    await daemon.stop(3_000);
    await tmp.remove();
  };
  try {
    await waitFor(`rspamd answering /ping on 127.0.0.1:${port}`, async () => ((await ping(port)) ? true : undefined), {
      daemon,
      timeoutMs: 45_000,
      intervalMs: 100,
      diagnostics: log,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { host: '127.0.0.1', port, url: `http://127.0.0.1:${port}`, socketPath, daemon, startupMs: Date.now() - t0, log, stop };
}
