// swaks as the SMTP client talking to Postfix's smtpd. Its stdout is the SMTP
// transcript ("<-  250 ...", "<** 550 ..."), which tests assert on.
// Exit codes (swaks(1)): 0 = delivered, 23 = error after MAIL, 24 = after RCPT,
// 25 = after DATA ... so a milter reject shows up as a non-zero exit.
import { runCommand, type CommandResult } from './process.js';

export interface SwaksOptions {
  port: number;
  from: string;
  to: string | readonly string[];
  /** Full header lines, "Name: value"; replace swaks's defaults of the same name. */
  headers?: readonly string[];
  body?: string;
  helo?: string;
  /** Raw XCLIENT attributes, e.g. "ADDR=192.0.2.1 NAME=client.example". */
  xclient?: string;
  timeoutMs?: number;
}

export function sendWithSwaks(opts: SwaksOptions): Promise<CommandResult> {
  const to = typeof opts.to === 'string' ? opts.to : opts.to.join(',');
  const args = ['--server', `127.0.0.1:${opts.port}`, '--from', opts.from, '--to', to, '--timeout', '30s'];
  args.push('--helo', opts.helo ?? 'client.example');
  for (const h of opts.headers ?? []) args.push('--header', h);
  if (opts.body !== undefined) args.push('--body', opts.body);
  if (opts.xclient !== undefined) args.push('--xclient', opts.xclient);
  // stdin is /dev/null: swaks prompts for anything missing, and must not hang.
  return runCommand('/usr/bin/swaks', args, { timeoutMs: opts.timeoutMs ?? 45_000 });
}

/** The queue id from "250 2.0.0 Ok: queued as 4Xyz...", if Postfix accepted the message. */
export function queueIdOf(transcript: string): string | undefined {
  return /queued as ([0-9A-Za-z]+)/.exec(transcript)?.[1];
}

/**
 * swaks with the arguments as given (server, TLS, AUTH, DSN...), plus a HELO and a timeout; `timeoutS` is
 * swaks's own per-step timeout, the process gets 15 s more.
 */
export function swaksRaw(args: readonly string[], timeoutS = 30): Promise<CommandResult> {
  return runCommand('/usr/bin/swaks', ['--timeout', `${timeoutS}s`, '--helo', 'client.example', ...args], { timeoutMs: (timeoutS + 15) * 1000 });
}
