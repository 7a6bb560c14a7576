// A real DNS server on 127.0.0.1 (UDP and TCP on the same port) serving a zone given as an object,
// so SPF/DKIM/DMARC tests go through Node's real resolver (createDnsResolver(['127.0.0.1:PORT']))
// and never touch the network.
//
// - Unknown names: NXDOMAIN (ENOTFOUND); a known name without records of the asked type: NOERROR and
//   no answers (ENODATA).
// - UDP answers larger than the client's size (512, or its EDNS size) are sent truncated (TC) so the
//   resolver retries over TCP, as with a real server and a long DKIM key.
// - A name's `behaviour` makes it misbehave: never answer (timeout), SERVFAIL, REFUSED, or garbage.
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import * as packet from 'dns-packet';

export interface ZoneEntry {
  /** Each record is one string (split into 255-byte character-strings) or its character-strings. */
  readonly TXT?: readonly (string | readonly string[])[];
  readonly A?: readonly string[];
  readonly AAAA?: readonly string[];
  readonly MX?: readonly { readonly exchange: string; readonly priority: number }[];
  readonly PTR?: readonly string[];
  readonly CNAME?: string;
  /** Misbehave for this name: no answer at all, SERVFAIL, REFUSED, or random bytes. */
  readonly behaviour?: 'silent' | 'servfail' | 'refused' | 'garbage';
}

export type DnsZone = Record<string, ZoneEntry>;

export interface DnsStub {
  readonly port: number;
  /** "127.0.0.1:PORT", for createDnsResolver([stub.server]) or `dns_servers`. */
  readonly server: string;
  /** Every question asked, in order ("name TYPE", lower-case name). */
  readonly queries: string[];
  /** Adds or replaces a name. */
  set(name: string, entry: ZoneEntry): void;
  /** Every name answers like `behaviour` (undefined: back to the zone). */
  setBehaviour(behaviour: ZoneEntry['behaviour']): void;
  close(): Promise<void>;
}

type Answer = packet.Answer;

// dns-packet encodes the response code as the low 4 bits of `flags`.
const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;
const RCODE_REFUSED = 5;

const norm = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/** TXT character-strings are at most 255 bytes: a long record is split as a zone file would. */
function txtStrings(record: string | readonly string[]): Buffer[] {
  const parts = typeof record === 'string' ? [record] : [...record];
  const out: Buffer[] = [];
  for (const part of parts) {
    const bytes = Buffer.from(part, 'utf8');
    if (bytes.length === 0) out.push(bytes);
    for (let i = 0; i < bytes.length; i += 255) out.push(bytes.subarray(i, i + 255));
  }
  return out;
}

function answersFor(name: string, type: string, entry: ZoneEntry): Answer[] {
  const base = { name, ttl: 60, class: 'IN' as const };
  if (entry.CNAME !== undefined && type !== 'CNAME') return [{ ...base, type: 'CNAME', data: entry.CNAME }];
  switch (type) {
    case 'TXT':
      return (entry.TXT ?? []).map((r) => ({ ...base, type: 'TXT', data: txtStrings(r) }));
    case 'A':
      return (entry.A ?? []).map((data) => ({ ...base, type: 'A', data }));
    case 'AAAA':
      return (entry.AAAA ?? []).map((data) => ({ ...base, type: 'AAAA', data }));
    case 'MX':
      return (entry.MX ?? []).map((mx) => ({ ...base, type: 'MX', data: { exchange: mx.exchange, preference: mx.priority } }));
    case 'PTR':
      return (entry.PTR ?? []).map((data) => ({ ...base, type: 'PTR', data }));
    default:
      return [];
  }
}

export async function startDnsStub(initial: DnsZone = {}): Promise<DnsStub> {
  const zone = new Map<string, ZoneEntry>(Object.entries(initial).map(([k, v]) => [norm(k), v]));
  const queries: string[] = [];
  let globalBehaviour: ZoneEntry['behaviour'];

  /** The reply to one query, or undefined to stay silent. `limit`: UDP size (Infinity over TCP). */
  const reply = (msg: Buffer, limit: number | 'tcp'): Buffer | undefined => {
    let query: packet.DecodedPacket;
    try {
      query = packet.decode(msg);
    } catch {
      return undefined;
    }
    const q = query.questions?.[0];
    if (q === undefined) return undefined;
    const name = norm(q.name);
    queries.push(`${name} ${q.type}`);
    const entry = zone.get(name);
    const behaviour = globalBehaviour ?? entry?.behaviour;
    if (behaviour === 'silent') return undefined;
    if (behaviour === 'garbage') {
      // The query id first, so the resolver reads the rest as a broken answer to its question.
      return Buffer.concat([msg.subarray(0, 2), Buffer.from([0x81, 0x80, 0, 1, 0, 9, 0, 0, 0, 0, 0xff, 0x13, 0x37])]);
    }
    const base = {
      type: 'response' as const,
      id: query.id ?? 0,
      flags: packet.AUTHORITATIVE_ANSWER | packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE,
      questions: [q],
    };
    if (behaviour === 'servfail' || behaviour === 'refused') {
      return packet.encode({ ...base, flags: base.flags | (behaviour === 'servfail' ? RCODE_SERVFAIL : RCODE_REFUSED) });
    }
    if (entry === undefined) return packet.encode({ ...base, flags: base.flags | RCODE_NXDOMAIN });
    const full = packet.encode({ ...base, answers: answersFor(q.name, q.type, entry) });
    if (limit !== 'tcp') {
      const opt = query.additionals?.find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
      const max = Math.max(512, opt?.udpPayloadSize ?? limit);
      if (full.length > max) return packet.encode({ ...base, flags: base.flags | packet.TRUNCATED_RESPONSE, answers: [] });
    }
    return full;
  };

  const tcpSockets = new Set<Socket>();
  const tcp: Server = createServer((sock) => {
    tcpSockets.add(sock);
    sock.on('close', () => tcpSockets.delete(sock));
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const out = reply(buf.subarray(2, 2 + len), 'tcp');
        buf = buf.subarray(2 + len);
        if (out !== undefined) {
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(out.length);
          sock.write(Buffer.concat([prefix, out]));
        }
      }
    });
  });

  const { udp, port } = await bindBoth(tcp, (udp) => {
    udp.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      const out = reply(msg, 512);
      if (out !== undefined) udp.send(out, rinfo.port, rinfo.address);
    });
    udp.on('error', () => undefined);
  });
  return {
    port,
    server: `127.0.0.1:${port}`,
    queries,
    set(name, entry) {
      zone.set(norm(name), entry);
    },
    setBehaviour(behaviour) {
      globalBehaviour = behaviour;
    },
    async close() {
      for (const s of tcpSockets) s.destroy();
      await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
    },
  };
}

/** UDP on a kernel-chosen port, then TCP on the same number (another try if something holds it). */
async function bindBoth(tcp: Server, setup: (udp: UdpSocket) => void): Promise<{ udp: UdpSocket; port: number }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = createSocket('udp4');
    const port = await new Promise<number>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, '127.0.0.1', () => {
        udp.off('error', reject);
        resolve(udp.address().port);
      });
    });
    const ok = await new Promise<boolean>((resolve) => {
      const onError = (): void => resolve(false);
      tcp.once('error', onError);
      tcp.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
        tcp.off('error', onError);
        resolve(true);
      });
    });
    if (ok) {
      setup(udp);
      return { udp, port };
    }
    await new Promise<void>((r) => udp.close(() => r()));
  }
  throw new Error('dns-stub: no port free for both UDP and TCP');
}
