/**
 * @module Test DNS: a zone held in memory, served either as an in-process Resolver or by a real
 * name server on a loopback UDP port (dns-packet), so a server under test resolves through its
 * own `dns.servers` setting exactly as in production.
 */
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import * as packet from 'dns-packet';
import type { MxRecord, RecordType, Resolver } from '../../src/dns/resolver.ts';

/** Records of one name. TXT values longer than 255 bytes are split into strings on the wire. */
export interface ZoneEntry {
  A?: string[];
  AAAA?: string[];
  MX?: MxRecord[];
  TXT?: string[];
}
/** Names (lower case, no trailing dot) to records. */
export type Zone = Record<string, ZoneEntry>;

const notFound = (name: string, code: string) => Object.assign(new Error(`${code} ${name}`), { code });

/** A Resolver answering from `zone`, for tests that need no network. */
export function zoneResolver(zone: Zone): Resolver {
  const answer = (name: string, type: RecordType): unknown[] => {
    const entry = zone[name.toLowerCase().replace(/\.$/, '')];
    if (!entry) throw notFound(name, 'ENOTFOUND');
    const key = type as keyof ZoneEntry;
    const list = entry[key] ?? [];
    if (list.length === 0) throw notFound(name, 'ENODATA');
    return type === 'TXT' ? (list as string[]).map((t) => chunk(t)) : list;
  };
  return {
    async mx(domain) {
      try {
        return answer(domain, 'MX') as MxRecord[];
      } catch {
        return [];
      }
    },
    async addresses(host) {
      const out: string[] = [];
      for (const t of ['A', 'AAAA'] as const) {
        try {
          out.push(...(answer(host, t) as string[]));
        } catch {}
      }
      return out;
    },
    async resolve(name, type) {
      return answer(name, type);
    },
  };
}

const chunk = (text: string): string[] => {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += 255) out.push(text.slice(i, i + 255));
  return out.length > 0 ? out : [''];
};

/** A running test name server. */
export interface DnsServer {
  /** `127.0.0.1:PORT`, for `dns.servers`. */
  address: string;
  /** The zone it serves; changes take effect at once. */
  zone: Zone;
  /** Questions answered so far. */
  readonly queries: number;
  close(): Promise<void>;
}

/** Serves `zone` over UDP on 127.0.0.1 (authoritative answers, NXDOMAIN for unknown names). */
export async function startDnsServer(zone: Zone): Promise<DnsServer> {
  const socket = createSocket('udp4');
  let queries = 0;
  socket.on('message', (msg, peer) => {
    queries++;
    let query: packet.Packet;
    try {
      query = packet.decode(msg);
    } catch {
      return;
    }
    const q = query.questions?.[0];
    if (!q) return;
    const name = q.name.toLowerCase().replace(/\.$/, '');
    const entry = zone[name];
    const answers: packet.Answer[] = [];
    if (entry) {
      if (q.type === 'A')
        for (const a of entry.A ?? []) answers.push({ type: 'A', name: q.name, ttl: 60, data: a });
      if (q.type === 'AAAA')
        for (const a of entry.AAAA ?? []) answers.push({ type: 'AAAA', name: q.name, ttl: 60, data: a });
      if (q.type === 'MX')
        for (const m of entry.MX ?? [])
          answers.push({
            type: 'MX',
            name: q.name,
            ttl: 60,
            data: { preference: m.priority, exchange: m.exchange },
          });
      if (q.type === 'TXT')
        for (const t of entry.TXT ?? [])
          answers.push({ type: 'TXT', name: q.name, ttl: 60, data: chunk(t).map((s) => Buffer.from(s)) });
    }
    const reply = packet.encode({
      id: query.id,
      type: 'response',
      flags:
        packet.AUTHORITATIVE_ANSWER | packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | (entry ? 0 : 3),
      questions: [q],
      answers,
    });
    socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    zone,
    get queries() {
      return queries;
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** The TXT records printed by `portcullis dkim generate` or `dkim list`, by DNS name. */
export function publishedRecords(output: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of output.split('\n')) {
    const m = /^(\S+)\. IN TXT \( (.*) \)$/.exec(line);
    if (m) out.set(m[1]!, [...m[2]!.matchAll(/"([^"]*)"/g)].map((x) => x[1]).join(''));
  }
  return out;
}
