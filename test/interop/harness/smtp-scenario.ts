// Scenario files: raw SMTP (or LMTP) command scripts replayed over a plain TCP socket, so the same
// file can be played against a private Postfix smtpd and against Mailgate and the replies compared by
// class and enhanced status code (the issue's differential tests). Files live in test/smtp/scenarios/
// as JSON:
//
//   { "description": "why this scenario exists",
//     "needs": { "mynetworks": "[] (loopback untrusted)" },      // the server setup it assumes (informative)
//     "steps": [
//       { "expect": "220" },                                     // the greeting: no bytes sent
//       { "send": "EHLO {{helo}}", "expect": "250" },            // one line, CRLF appended
//       { "send": "RCPT TO:<x@{{remote_domain}}>", "expect": "554 5.7.1" },
//       { "raw": "DATA\n", "expect": "none" },                   // exact bytes: bare LF, NUL (\u0000) ...
//       { "send": "QUIT", "expect": ["221"], "close": true } ] }
//
// `expect` is one reply pattern or a list (one per reply the step causes, e.g. pipelined commands or
// LMTP's per-recipient replies after DATA); "none" means the step causes no reply (DATA content
// lines). A pattern is a class ("5"), a code prefix or code ("55", "554"), "*" for any reply,
// optionally followed by an enhanced code or its prefix ("5.7.1", "5.7"). `close: true`: the server
// must close the connection after its replies. {{name}} in send/raw is replaced from the variables
// given when the scenario runs (each server has its own: its local user, its remote domain).
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatReply, readReplies, type SmtpReply } from './smtp-reply.js';

/** Where the scenario files live. */
export const SCENARIO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'smtp', 'scenarios');

export interface ExpectedReply {
  /** "2", "55", "554", or "" for any. */
  code: string;
  /** "5.7.1", "5.7", or undefined (not checked). */
  enhanced?: string;
}

export interface ScenarioStep {
  /** One command line; CRLF is appended. */
  send?: string;
  /** Exact bytes (UTF-8 encoded), nothing appended. */
  raw?: string;
  expect: ExpectedReply[];
  close: boolean;
}

export interface Scenario {
  name: string;
  description: string;
  needs: Record<string, string>;
  steps: ScenarioStep[];
}

export interface StepResult {
  index: number;
  /** What was sent, as written to the socket (variables replaced), or "" for none. */
  sent: string;
  replies: SmtpReply[];
  /** The server closed the connection during or after this step. */
  closed: boolean;
  /** Why the step does not match its expectation (empty: it matches). */
  problems: string[];
}

export interface ScenarioResult {
  scenario: string;
  target: string;
  steps: StepResult[];
  ok: boolean;
  /** "C: ...", "S: ..." lines, with each step's problems, for assertion messages. */
  transcript: string;
}

export interface ScenarioTarget {
  /** A label for transcripts ("postfix", "mailgate"). */
  name: string;
  host?: string;
  port: number;
  /** Values for {{name}} in the scenario's lines. */
  vars?: Record<string, string>;
}

export interface RunOptions {
  /** How long to wait for each expected reply (and for the close), ms. */
  replyTimeoutMs?: number;
}

// ---- parsing scenario files ------------------------------------------------------------------

const PATTERN = /^(\*|[2-5]\d{0,2})(?: ([245](?:\.\d{1,3}){0,2}))?$/;

/** Parses one expectation string ("554 5.7.1", "2", "*", "none" handled by the caller). */
export function parseExpected(text: string): ExpectedReply {
  const m = PATTERN.exec(text.trim());
  if (!m?.[1]) throw new Error(`bad reply pattern ${JSON.stringify(text)} (want e.g. "2", "554", "554 5.7.1", "*")`);
  const code = m[1] === '*' ? '' : m[1];
  return m[2] === undefined ? { code } : { code, enhanced: m[2] };
}

/** Validates a parsed JSON scenario; `name` is used in errors and results. */
export function parseScenario(name: string, json: unknown): Scenario {
  const fail = (why: string): never => {
    throw new Error(`scenario ${name}: ${why}`);
  };
  if (typeof json !== 'object' || json === null) return fail('not a JSON object');
  const o = json as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!['description', 'needs', 'steps'].includes(key)) fail(`unknown key "${key}"`);
  if (typeof o.description !== 'string') fail('"description" must be a string');
  const needs = o.needs ?? {};
  if (typeof needs !== 'object' || needs === null || Object.values(needs).some((v) => typeof v !== 'string')) fail('"needs" must map names to strings');
  if (!Array.isArray(o.steps) || o.steps.length === 0) return fail('"steps" must be a non-empty array');
  const steps = o.steps.map((s: unknown, i): ScenarioStep => {
    const at = `step ${i + 1}`;
    if (typeof s !== 'object' || s === null) return fail(`${at}: not an object`);
    const st = s as Record<string, unknown>;
    for (const key of Object.keys(st)) if (!['send', 'raw', 'expect', 'close'].includes(key)) fail(`${at}: unknown key "${key}"`);
    if (st.send !== undefined && st.raw !== undefined) fail(`${at}: both "send" and "raw"`);
    if (st.send !== undefined && (typeof st.send !== 'string' || /[\r\n]/.test(st.send))) fail(`${at}: "send" must be one line (use "raw" for CR/LF)`);
    if (st.raw !== undefined && typeof st.raw !== 'string') fail(`${at}: "raw" must be a string`);
    if (st.close !== undefined && typeof st.close !== 'boolean') fail(`${at}: "close" must be true or false`);
    const list = typeof st.expect === 'string' ? [st.expect] : st.expect;
    if (!Array.isArray(list) || list.some((e) => typeof e !== 'string')) return fail(`${at}: "expect" must be a string or a list of strings`);
    let expect: ExpectedReply[];
    try {
      expect = list.length === 1 && list[0] === 'none' ? [] : (list as string[]).map(parseExpected);
    } catch (err) {
      return fail(`${at}: ${(err as Error).message}`);
    }
    return {
      ...(st.send === undefined ? {} : { send: st.send as string }),
      ...(st.raw === undefined ? {} : { raw: st.raw as string }),
      expect,
      close: st.close === true,
    };
  });
  return { name, description: o.description as string, needs: needs as Record<string, string>, steps };
}

export function loadScenario(path: string): Scenario {
  return parseScenario(basename(path, '.json'), JSON.parse(readFileSync(path, 'utf8')) as unknown);
}

/** Every *.json scenario in `dir` (default SCENARIO_DIR), sorted by name. */
export function loadScenarios(dir = SCENARIO_DIR): Scenario[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => loadScenario(join(dir, f)));
}

// ---- running ---------------------------------------------------------------------------------

export function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`scenario variable {{${name}}} has no value`);
    return v;
  });
}

export function matches(reply: SmtpReply, want: ExpectedReply): boolean {
  if (!String(reply.code).startsWith(want.code)) return false;
  if (want.enhanced === undefined) return true;
  return reply.enhanced !== undefined && (reply.enhanced === want.enhanced || reply.enhanced.startsWith(`${want.enhanced}.`));
}

const show = (e: ExpectedReply): string => `${e.code || '*'}${e.enhanced ? ` ${e.enhanced}` : ''}`;

/** Replies as they arrive on a socket, one at a time. */
class ReplyStream {
  private buf = Buffer.alloc(0);
  private queue: SmtpReply[] = [];
  private ended = false;
  private wake: (() => void) | undefined;
  malformed: string | undefined;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      const r = readReplies(Buffer.concat([this.buf, chunk]));
      this.queue.push(...r.replies);
      this.buf = Buffer.from(r.rest);
      if (r.malformed !== undefined) {
        this.malformed ??= r.malformed;
        this.buf = Buffer.alloc(0);
      }
      this.wake?.();
    });
    const end = (): void => {
      this.ended = true;
      this.wake?.();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  get closed(): boolean {
    return this.ended && this.queue.length === 0;
  }

  pending(): SmtpReply[] {
    return this.queue.splice(0);
  }

  /** The next reply, or 'closed' / 'timeout'. */
  async next(timeoutMs: number): Promise<SmtpReply | 'closed' | 'timeout'> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.queue.shift();
      if (r) return r;
      if (this.ended) return 'closed';
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Waits for the server to close (true) or the timeout (false). */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, deadline - Date.now());
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return this.ended;
  }
}

function openSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect ${host}:${port}: timed out`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * Plays `scenario` against one server and records every reply. Never throws on a mismatch (the
 * result says what differs); throws only when the connection cannot be opened or a variable is missing.
 */
export async function runScenario(scenario: Scenario, target: ScenarioTarget, opts: RunOptions = {}): Promise<ScenarioResult> {
  const timeout = opts.replyTimeoutMs ?? 10_000;
  const vars = target.vars ?? {};
  const host = target.host ?? '127.0.0.1';
  const socket = await openSocket(host, target.port, timeout);
  const stream = new ReplyStream(socket);
  const steps: StepResult[] = [];
  const transcript: string[] = [`# ${scenario.name} against ${target.name} (${host}:${target.port})`];
  try {
    for (const [i, step] of scenario.steps.entries()) {
      const sent = step.send !== undefined ? `${substitute(step.send, vars)}\r\n` : step.raw !== undefined ? substitute(step.raw, vars) : '';
      const result: StepResult = { index: i + 1, sent, replies: [], closed: false, problems: [] };
      steps.push(result);
      if (sent !== '') {
        transcript.push(`C: ${step.raw !== undefined ? JSON.stringify(sent) : sent.slice(0, -2)}`);
        if (stream.closed) {
          result.closed = true;
          result.problems.push('the connection was already closed');
          continue;
        }
        socket.write(Buffer.from(sent, 'utf8'));
      }
      for (const want of step.expect) {
        const r = await stream.next(timeout);
        if (r === 'closed' || r === 'timeout') {
          result.problems.push(`expected ${show(want)}, got ${r === 'closed' ? 'the connection closed' : `no reply in ${timeout} ms`}`);
          if (r === 'closed') result.closed = true;
          break;
        }
        result.replies.push(r);
        transcript.push(`S: ${formatReply(r)}`);
        if (!matches(r, want)) result.problems.push(`expected ${show(want)}, got ${formatReply(r)}`);
      }
      if (step.close) {
        if (await stream.waitClosed(timeout)) result.closed = true;
        else result.problems.push(`expected the server to close the connection within ${timeout} ms`);
      } else if (stream.closed) {
        result.closed = true;
      }
      const extra = stream.pending();
      for (const r of extra) {
        result.replies.push(r);
        transcript.push(`S: ${formatReply(r)}`);
        result.problems.push(`unexpected reply ${formatReply(r)}`);
      }
      if (stream.malformed !== undefined) result.problems.push(`malformed reply line ${JSON.stringify(stream.malformed)}`);
      for (const p of result.problems) transcript.push(`!! step ${i + 1}: ${p}`);
      if (result.closed) transcript.push('S: (connection closed)');
    }
  } finally {
    socket.destroy();
  }
  return { scenario: scenario.name, target: target.name, steps, ok: steps.every((s) => s.problems.length === 0), transcript: transcript.join('\n') };
}

export interface Comparison {
  a: ScenarioResult;
  b: ScenarioResult;
  /** One line per reply whose class or enhanced code differ, and per `close` step where only one server closed. */
  differences: string[];
}

const klass = (r: SmtpReply | undefined): string => (r === undefined ? 'none' : String(r.code)[0] ?? '?');

/**
 * Plays `scenario` against two servers (one after the other) and compares them reply by reply: the
 * reply class (2/3/4/5) and the enhanced status code must agree; texts and exact codes may differ.
 */
export async function compareScenario(scenario: Scenario, a: ScenarioTarget, b: ScenarioTarget, opts: RunOptions = {}): Promise<Comparison> {
  const ra = await runScenario(scenario, a, opts);
  const rb = await runScenario(scenario, b, opts);
  const differences: string[] = [];
  for (const [i, sa] of ra.steps.entries()) {
    const sb = rb.steps[i];
    const label = `step ${sa.index}${sa.sent ? ` (${JSON.stringify(sa.sent.length > 60 ? `${sa.sent.slice(0, 60)}...` : sa.sent)})` : ''}`;
    const n = Math.max(sa.replies.length, sb?.replies.length ?? 0);
    for (let k = 0; k < n; k++) {
      const x = sa.replies[k];
      const y = sb?.replies[k];
      if (klass(x) !== klass(y) || x?.enhanced !== y?.enhanced) {
        differences.push(
          `${label} reply ${k + 1}: ${a.name} ${x ? formatReply(x) : '(none)'} | ${b.name} ${y ? formatReply(y) : '(none)'}`,
        );
      }
    }
    // Only where the scenario waits for the close: elsewhere the FIN may arrive a moment after the reply.
    if (scenario.steps[i]?.close === true && sa.closed !== (sb?.closed ?? true)) differences.push(`${label}: ${sa.closed ? a.name : b.name} closed the connection, the other did not`);
  }
  return { a: ra, b: rb, differences };
}

/** Both transcripts and the differences, for an assertion message. */
export function describeComparison(c: Comparison): string {
  return `${c.differences.join('\n')}\n--- ${c.a.target} ---\n${c.a.transcript}\n--- ${c.b.target} ---\n${c.b.transcript}`;
}

/** compareScenario for every file in `dir` (default SCENARIO_DIR): the differential test's whole run. */
export async function compareScenarioFiles(a: ScenarioTarget, b: ScenarioTarget, opts: RunOptions & { dir?: string } = {}): Promise<Comparison[]> {
  const out: Comparison[] = [];
  for (const scenario of loadScenarios(opts.dir)) out.push(await compareScenario(scenario, a, b, opts));
  return out;
}
