/**
 * The SMTP server's log lines in Postfix's words, so that an administrator's grep and log analyser keep
 * working: "connect from NAME[ADDR]", "disconnect from NAME[ADDR] ehlo=1 mail=1 rcpt=1/2 data=1 ...", and
 * one line per refused command: "NOQUEUE: reject: RCPT from NAME[ADDR]: 554 5.7.1 <x>: Relay access
 * denied; from=<s> to=<r> proto=ESMTP helo=<h>" ("milter-reject" when the chain refused; the queue id instead
 * of NOQUEUE once a recipient was accepted).
 */

export interface RejectLine {
  readonly id?: string;
  /** "milter-reject" when the chain refused (Postfix's word for a milter's refusal); default "reject". */
  readonly action?: 'reject' | 'milter-reject';
  readonly command: string;
  /** "NAME[ADDR]", as Postfix writes the client. */
  readonly client: string;
  /** The whole reply sent, "554 5.7.1 text". */
  readonly reply: string;
  readonly from?: string;
  readonly to?: string;
  readonly proto: string;
  readonly helo?: string;
}

export function clientText(name: string | undefined, address: string): string {
  return `${name && !name.startsWith('[') ? name : 'unknown'}[${address}]`;
}

export function rejectLine(r: RejectLine): string {
  let line = `${r.id ?? 'NOQUEUE'}: ${r.action ?? 'reject'}: ${r.command} from ${r.client}: ${r.reply};`;
  if (r.from !== undefined) line += ` from=<${r.from}>`;
  if (r.to !== undefined) line += ` to=<${r.to}>`;
  line += ` proto=${r.proto}`;
  if (r.helo !== undefined) line += ` helo=<${r.helo}>`;
  return line;
}

/** Counts of one session's commands, as Postfix's disconnect line gives them ("rcpt=1/2": accepted/given). */
export class CommandCounts {
  private readonly counts = new Map<string, { ok: number; all: number }>();

  count(command: string, ok: boolean): void {
    const c = this.counts.get(command) ?? { ok: 0, all: 0 };
    c.all++;
    if (ok) c.ok++;
    this.counts.set(command, c);
  }

  get(command: string): { ok: number; all: number } {
    return this.counts.get(command) ?? { ok: 0, all: 0 };
  }

  text(): string {
    let total = { ok: 0, all: 0 };
    const parts: string[] = [];
    for (const [name, c] of this.counts) {
      parts.push(c.ok === c.all ? `${name}=${c.all}` : `${name}=${c.ok}/${c.all}`);
      total = { ok: total.ok + c.ok, all: total.all + c.all };
    }
    parts.push(total.ok === total.all ? `commands=${total.all}` : `commands=${total.ok}/${total.all}`);
    return parts.join(' ');
  }
}
