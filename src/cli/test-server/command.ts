/** `mailgate test-server`: milter-test-server's options and output, driving a milter as an MTA would. */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { ConnectionInfo } from '../../mail/connection.js';
import type { Header } from '../../mail/header-list.js';
import { createLogger, silentLogger } from '../../mail/logger.js';
import { MilterClient } from '../../milter/client.js';
import { MilterClientError } from '../../milter/client-errors.js';
import { parseConnectionSpec } from '../../milter/spec.js';
import { collect, macroOption, numberOption, UsageError } from '../options.js';
import { MailFileError, normalizeEnvelopeAddress, parseMailFile, type ParsedMail } from './mail-file.js';
import { formatSeconds, report, statusLine } from './output.js';
import { DEFAULT_BODY, type SessionPlan } from './plan.js';
import { runSession, type SessionOutcome } from './session.js';

interface Options {
  connectionSpec?: string;
  name: string;
  negotiateVersion: number;
  connectHost: string;
  connectAddress: string;
  connectMacro?: [string, string][];
  heloFqdn: string;
  heloMacro?: [string, string][];
  envelopeFrom?: string;
  envelopeFromMacro?: [string, string][];
  envelopeRecipient?: string[];
  envelopeRecipientMacro?: [string, string][];
  dataMacro?: [string, string][];
  header?: string[];
  endOfHeaderMacro?: [string, string][];
  body?: string[];
  endOfMessageMacro?: [string, string][];
  unknown?: string;
  authenticatedName?: string;
  authenticatedType?: string;
  authenticatedAuthor?: string;
  mailFile?: string;
  outputMessage?: boolean;
  connectionTimeout: number;
  readingTimeout: number;
  writingTimeout: number;
  endOfMessageTimeout: number;
  threads: number;
  nSessions: number;
  verbose?: boolean;
}

export function testServerCommand(): Command {
  return new Command('test-server')
    .description('act as an MTA against a milter and report its verdict (like milter-test-server)')
    .helpOption('--help', 'show this help')
    .option('-s, --connection-spec <spec>', 'the milter: unix:PATH | inet:PORT[@HOST] | inet6:PORT[@HOST] | inet:HOST:PORT (Postfix)')
    .option('--name <name>', 'name sent as the {daemon_name} macro', 'mailgate-test-server')
    .option('--negotiate-version <n>', 'milter protocol version to offer', numberOption, 6)
    .option('--connect-host <host>', 'client host name at connect', 'mx.example.net')
    .option('--connect-address <spec>', 'client address at connect', 'inet:50443@[192.168.123.123]')
    .option('--connect-macro <name:value>', 'macro sent at connect (repeatable)', macroOption)
    .option('--helo-fqdn <fqdn>', 'HELO name', 'delian')
    .option('--helo-macro <name:value>', 'macro sent at HELO (repeatable)', macroOption)
    .option('-f, --envelope-from <from>', 'envelope sender (default: sender@example.com, or the From: of --mail-file)')
    .option('--envelope-from-macro <name:value>', 'macro sent at MAIL (repeatable)', macroOption)
    .option('-r, --envelope-recipient <rcpt>', 'envelope recipient (repeatable; default: receiver@example.org, or the To: of --mail-file)', collect)
    .option('--envelope-recipient-macro <name:value>', 'macro sent at RCPT (repeatable)', macroOption)
    .option('--data-macro <name:value>', 'macro sent at DATA (repeatable)', macroOption)
    .option('-h, --header <name:value>', 'header (repeatable)', collect)
    .option('--end-of-header-macro <name:value>', 'macro sent at end of headers (repeatable)', macroOption)
    .option('-b, --body <chunk>', 'body chunk (repeatable)', collect)
    .option('--end-of-message-macro <name:value>', 'macro sent at end of message (repeatable)', macroOption)
    .option('--unknown <command>', 'an unknown SMTP command to report')
    .option('--authenticated-name <name>', 'SASL login ({auth_authen})')
    .option('--authenticated-type <type>', 'SASL method ({auth_type})')
    .option('--authenticated-author <author>', 'SASL sender ({auth_author})')
    .option('-m, --mail-file <path>', 'message file (headers and body; "-" reads standard input)')
    .option('--output-message', 'print the message as the milter left it')
    .option('--connection-timeout <seconds>', 'connect timeout', numberOption, 300)
    .option('--reading-timeout <seconds>', 'reply timeout', numberOption, 10)
    .option('--writing-timeout <seconds>', 'write timeout', numberOption, 10)
    .option('--end-of-message-timeout <seconds>', 'end-of-message timeout', numberOption, 300)
    .addOption(new Option('-t, --threads <n>', 'run N sessions concurrently').argParser(numberOption).default(0))
    .option('--n-sessions <n>', 'sessions each worker runs one after another', numberOption, 1)
    .option('-v, --verbose', 'log protocol details to standard error')
    .action(async (opts: Options) => {
      process.exitCode = await run(opts);
    });
}

async function run(opts: Options): Promise<number> {
  if (!opts.connectionSpec) throw new UsageError('test-server needs -s/--connection-spec');
  const spec = opts.connectionSpec.startsWith('/') ? `unix:${opts.connectionSpec}` : opts.connectionSpec;
  const plan = buildPlan(opts);
  const client = new MilterClient({
    spec,
    name: spec,
    timeouts: {
      connection: opts.connectionTimeout,
      reading: opts.readingTimeout,
      writing: opts.writingTimeout,
      endOfMessage: opts.endOfMessageTimeout,
    },
    logger: opts.verbose ? createLogger({ level: 'debug' }) : silentLogger,
  });
  const workers = Math.max(1, opts.threads);
  const perWorker = Math.max(1, opts.nSessions);
  const summary = perWorker > 1;
  const started = process.hrtime.bigint();
  const counts = new Map<string, number>();
  let failures = 0;
  const one = async (): Promise<void> => {
    let outcome: SessionOutcome;
    try {
      outcome = await runSession(client.open(), plan);
    } catch (err) {
      failures++;
      const msg = err instanceof MilterClientError ? err.message : String(err);
      if (!summary || opts.verbose || failures === 1) process.stdout.write(`${msg}\n`);
      return;
    }
    const status = statusLine(outcome.reply).split(' ')[1]!;
    counts.set(status, (counts.get(status) ?? 0) + 1);
    if (!summary || opts.verbose) process.stdout.write(report(outcome, opts.outputMessage === true));
  };
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = 0; i < perWorker; i++) await one();
    }),
  );
  if (summary) {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const total = workers * perWorker;
    const byStatus = [...counts].map(([s, n]) => `${s}: ${n}`).join(', ');
    process.stdout.write(
      `sessions: ${total - failures} of ${total} ran (${byStatus}${failures ? `${byStatus ? ', ' : ''}failed: ${failures}` : ''})\n` +
        `elapsed-time: ${formatSeconds(seconds)} seconds\n` +
        `sessions-per-second: ${formatSeconds((total - failures) / seconds)}\n`,
    );
  }
  return failures > 0 ? 1 : 0;
}

function buildPlan(opts: Options): SessionPlan {
  let mail: ParsedMail | undefined;
  if (opts.mailFile !== undefined) {
    try {
      mail = parseMailFile(opts.mailFile === '-' ? readFileSync(0) : readFileSync(opts.mailFile));
    } catch (err) {
      if (err instanceof MailFileError) throw new UsageError(err.message);
      throw new UsageError(`cannot read ${opts.mailFile}: ${(err as Error).message}`);
    }
  }
  const from = normalizeEnvelopeAddress(opts.envelopeFrom ?? mail?.from ?? 'sender@example.com');
  const rcpts = opts.envelopeRecipient ?? [];
  const given = rcpts.length > 0 ? rcpts : (mail?.to ?? []);
  const recipients = (given.length > 0 ? given : ['receiver@example.org']).map(normalizeEnvelopeAddress);
  const headers: Header[] = (opts.header ?? []).map((h) => {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new UsageError(`headers option should be 'NAME:VALUE': ${h}`);
    return { name: h.slice(0, colon), value: h.slice(colon + 1) };
  });
  headers.push(...(mail?.headers ?? []));
  if (!headers.some((h) => h.name === 'From')) headers.push({ name: 'From', value: from });
  if (!headers.some((h) => h.name === 'To')) headers.push({ name: 'To', value: recipients[0]! });
  const bodyChunks =
    opts.body !== undefined
      ? opts.body.map((b) => Buffer.from(b, 'utf8'))
      : mail
        ? chunks(mail.body, 65535)
        : [Buffer.from(DEFAULT_BODY)];
  const auth: [string, string][] = [];
  if (opts.authenticatedName !== undefined) auth.push(['{auth_authen}', opts.authenticatedName]);
  if (opts.authenticatedType !== undefined) auth.push(['{auth_type}', opts.authenticatedType]);
  if (opts.authenticatedAuthor !== undefined) auth.push(['{auth_author}', opts.authenticatedAuthor]);
  return {
    negotiateVersion: opts.negotiateVersion,
    connect: connectInfo(opts.connectHost, opts.connectAddress),
    helo: opts.heloFqdn,
    from,
    recipients,
    headers,
    bodyChunks,
    ...(opts.unknown !== undefined ? { unknown: opts.unknown } : {}),
    macros: {
      connect: merge(
        [['{daemon_name}', opts.name], ['{if_name}', 'localhost'], ['{if_addr}', '127.0.0.1'], ['j', 'mail.example.com']],
        opts.connectMacro ?? [],
      ),
      helo: merge(
        [['{tls_version}', '0'], ['{cipher}', '0'], ['{cipher_bits}', '0'], ['{cert_subject}', 'cert_subject'], ['{cert_issuer}', 'cert_issuer']],
        opts.heloMacro ?? [],
      ),
      mail: merge(
        [['i', 'i'], ['{mail_mailer}', 'mail_mailer'], ['{mail_host}', 'mail_host'], ['{mail_addr}', 'mail_addr'], ...auth],
        opts.envelopeFromMacro ?? [],
      ),
      rcpt: merge([['{rcpt_mailer}', 'rcpt_mailer'], ['{rcpt_host}', 'rcpt_host']], opts.envelopeRecipientMacro ?? []),
      data: opts.dataMacro ?? [],
      endOfHeaders: opts.endOfHeaderMacro ?? [],
      endOfMessage: merge([['i', 'message-id']], opts.endOfMessageMacro ?? []),
    },
  };
}

/** Defaults first, then the user's macros, a user value replacing a default of the same name. */
function merge(defaults: [string, string][], given: [string, string][]): [string, string][] {
  const names = new Set(given.map(([n]) => n));
  return [...defaults.filter(([n]) => !names.has(n)), ...given];
}

function connectInfo(host: string, address: string): ConnectionInfo {
  let spec;
  try {
    spec = parseConnectionSpec(address);
  } catch (err) {
    throw new UsageError(`--connect-address: ${(err as Error).message}`);
  }
  if (spec.type === 'unix') return { hostname: host, family: 'unix', path: spec.path, port: 0 };
  return { hostname: host, family: spec.family === 6 ? 'inet6' : 'inet', address: spec.host, port: spec.port };
}

function chunks(body: Buffer, size: number): Buffer[] {
  if (body.length === 0) return [];
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) out.push(body.subarray(i, i + size));
  return out;
}
