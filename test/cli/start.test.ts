/**
 * `mailgate start` as a person runs it: the built command in a child process, with a temporary data
 * directory and free loopback ports. It starts, says where it listens, listens there, makes its
 * certificate once (key 0600), reloads on SIGHUP and exits 0 on SIGTERM.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtModule } from '../dist.js';
import { freePorts } from '../interop/harness/ports.js';
import { makeTempDir, type TempDir } from '../interop/harness/tmpdir.js';
import { acceptsConnection as accepts } from '../interop/harness/endpoint.js';

const READY = 'SIGHUP reloads the configuration.';

interface Run {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
}

/** Starts `mailgate start ARGS` in `cwd`; resolves once it printed its summary (or exited). */
function start(args: string[], cwd: string): Promise<Run> {
  const cli = builtModule('cli/main.js');
  const child = spawn(process.execPath, [cli, 'start', '--log-format', 'human', ...args], { cwd, env: { ...process.env, MAILGATE_COMMAND: 'mailgate' } });
  const run: Run = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => child.on('close', (code) => resolve(code))),
  };
  return new Promise((resolve, reject) => {
    // A hang guard only: start takes well under a second (the first certificate about one).
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mailgate start did not report ready:\n${run.stdout}\n${run.stderr}`));
    }, 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      run.stdout += d.toString();
      if (run.stdout.includes(READY)) {
        clearTimeout(guard);
        resolve(run);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (run.stderr += d.toString()));
    void run.exited.then(() => {
      clearTimeout(guard);
      resolve(run);
    });
  });
}

/** Until `pattern` appears in the run's log (hang guard only). */
async function logged(run: Run, pattern: RegExp): Promise<void> {
  for (let i = 0; i < 300 && !pattern.test(run.stderr); i++) await new Promise((r) => setTimeout(r, 50));
  expect(run.stderr).toMatch(pattern);
}

/** The first line a TCP server at `port` sends, or '' if it sends none before closing. */
function firstLine(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let data = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer on port ${port}`)));
    socket.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      if (data.includes('\n')) {
        socket.destroy();
        resolve(data.split('\r\n')[0] ?? '');
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(data));
    socket.connect(port, '127.0.0.1');
  });
}


let dir: TempDir;
let ports: { mx: number; submission: number; submissions: number; milter: number; imap: number; imaps: number; pop3: number; pop3s: number };
let configFile: string;

const configText = (extra = ''): string => `# written by start.test.ts
data_dir = "data"
hostname = "mx.test.example"
[smtp]
listen = ["127.0.0.1:${ports.mx}"]
[submission]
listen = ["127.0.0.1:${ports.submission}"]
tls_listen = ["127.0.0.1:${ports.submissions}"]
[imap]
listen = ["127.0.0.1:${ports.imap}"]
tls_listen = ["127.0.0.1:${ports.imaps}"]
[pop3]
listen = ["127.0.0.1:${ports.pop3}"]
tls_listen = ["127.0.0.1:${ports.pop3s}"]
[manager]
connection_spec = "inet:${ports.milter}@[127.0.0.1]"
${extra}`;

beforeAll(async () => {
  dir = await makeTempDir('start');
  const [mx, submission, submissions, milter, imap, imaps, pop3, pop3s] = (await freePorts(8)) as [number, number, number, number, number, number, number, number];
  ports = { mx, submission, submissions, milter, imap, imaps, pop3, pop3s };

  configFile = join(dir.path, 'mailgate.toml');
  writeFileSync(configFile, configText());
});
afterAll(() => dir.remove());

describe('mailgate start', () => {
  it('starts, prints where it listens and the next two commands, listens there, makes the certificate (key 0600), exits 0 on SIGTERM', async () => {
    const run = await start(['--config', configFile], dir.path);
    try {
      expect(run.stdout).toContain(`Mailgate is running as mx.test.example (${configFile}).`);
      expect(run.stdout).toMatch(new RegExp(`MX \\(SMTP\\) +127\\.0\\.0\\.1:${ports.mx}`));
      expect(run.stdout).toMatch(new RegExp(`submission \\(STARTTLS, AUTH\\) +127\\.0\\.0\\.1:${ports.submission}\\n`));
      expect(run.stdout).toMatch(new RegExp(`submission \\(implicit TLS\\) +127\\.0\\.0\\.1:${ports.submissions}\\n`));
      expect(run.stdout).toContain(`inet:${ports.milter}@[127.0.0.1]   (main.cf: smtpd_milters = inet:127.0.0.1:${ports.milter})`);
      expect(run.stdout).toContain(`  mailgate user add alice@localhost --config ${configFile}\n`);
      expect(run.stdout).toContain(`  swaks --server 127.0.0.1 --port ${ports.mx} --from you@example.org --to alice@localhost\n`);
      const tlsDir = join(dir.path, 'data', 'tls');
      expect(run.stdout).toContain(`${join(tlsDir, 'cert.pem')} (self-signed for mx.test.example, made now)`);
      expect(run.stderr).toMatch(/INFO made a self-signed TLS certificate .*cn=mx\.test\.example/);
      expect(statSync(join(tlsDir, 'key.pem')).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir.path, 'data')).isDirectory()).toBe(true);

      // The first printed command works against the running server's accounts.
      const add = spawnSync(process.execPath, [builtModule('cli/main.js'), 'user', 'add', 'alice@localhost', '--password-stdin', '--config', configFile], {
        input: 'correct horse\n',
        encoding: 'utf8',
      });
      expect(add.status, add.stderr).toBe(0);

      // Every listener accepts; the MX greets with an SMTP reply.
      expect(await firstLine(ports.mx)).toMatch(/^[0-9]{3}[ -]/);
      for (const port of [ports.submission, ports.submissions, ports.milter, ports.imaps, ports.pop3s]) expect(await accepts(port), `port ${port}`).toBe(true);
      expect(await firstLine(ports.imap)).toMatch(/^\* OK /);
      expect(await firstLine(ports.pop3)).toMatch(/^\+OK /);
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exited).toBe(0);
    expect(run.stderr).toMatch(/INFO shutting down: no new connections/);
    expect(run.stderr).toMatch(/INFO stopped/);
    // nothing listens any more
    expect(await accepts(ports.mx)).toBe(false);
    expect(await accepts(ports.milter)).toBe(false);
  });

  it('a second start reuses the certificate', async () => {
    const cert = readFileSync(join(dir.path, 'data', 'tls', 'cert.pem'));
    const run = await start(['--config', configFile], dir.path);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.stdout).toContain('(self-signed for mx.test.example)');
    expect(run.stderr).not.toMatch(/made a self-signed/);
    expect(readFileSync(join(dir.path, 'data', 'tls', 'cert.pem')).equals(cert)).toBe(true);
    expect(statSync(join(dir.path, 'data', 'tls', 'key.pem')).mode & 0o777).toBe(0o600);
  });

  it('SIGHUP reloads the chain, names the sections that need a restart, and keeps running on a broken file', async () => {
    const file = join(dir.path, 'reload.toml');
    writeFileSync(file, configText());
    const run = await start(['--config', file], dir.path);
    try {
      writeFileSync(file, configText('[queue]\nqueue_run_delay = 60\n[[milter]]\nname = "rules"\nbuiltin = "rules"\n'));
      run.child.kill('SIGHUP');
      await logged(run, /INFO configuration reloaded: the chain children=rules/);
      await logged(run, /WARN \[queue\] changed: it takes effect at the next restart/);
      writeFileSync(file, configText('[queue]\nbogus = 1\n'));
      run.child.kill('SIGHUP');
      await logged(run, /ERROR reload failed; keeping the running configuration err=.*reload\.toml:\d+: queue\.bogus: unknown key/);
      expect(await firstLine(ports.mx)).toMatch(/^[0-9]{3}[ -]/);
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exited).toBe(0);
  });

  it('a bad value: exit 2 and one line with file:line, nothing started', async () => {
    const file = join(dir.path, 'bad.toml');
    writeFileSync(file, '[delivery]\nrelay_host = "192.0.2.1"\n');
    const run = await start(['--config', file], dir.path);
    expect(await run.exited).toBe(2);
    expect(run.stderr.trim()).toBe(`mailgate: ${file}:2: delivery.relay_host: "192.0.2.1": an IP address must be in brackets ("[192.0.2.1]"): without them Postfix looks up MX records`);
    expect(run.stdout).toBe('');
  });

  it('a port already in use: exit 2 with one line naming it, and the milter port is free again', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(ports.submission, '127.0.0.1', () => resolve()));
    try {
      const run = await start(['--config', configFile], dir.path);
      expect(await run.exited).toBe(2);
      expect(run.stderr).toMatch(new RegExp(`mailgate: listen EADDRINUSE: address already in use 127\\.0\\.0\\.1:${ports.submission}\\n$`));
      expect(await accepts(ports.milter)).toBe(false);
      expect(await accepts(ports.mx)).toBe(false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
