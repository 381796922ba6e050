/**
 * @module Lists of networks, and the addresses the server never opens a connection to
 * (ATTACKS.md R16): loopback, private, link-local, CGNAT, documentation, multicast and reserved
 * ranges, with the IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4). The
 * egress guard, the outbound queue (MX answers) and the connection guard's exempt list all read
 * networks through here, so they agree on what "inside" means.
 */
import { BlockList, isIP } from 'node:net';

/** IANA special-purpose ranges, IPv4. */
const INSIDE_V4 = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
];
/** IANA special-purpose ranges, IPv6, and the forms that embed an IPv4 address. */
const INSIDE_V6 = [
  '::/128',
  '::1/128',
  '::ffff:0:0/96',
  '::/96',
  '64:ff9b::/96',
  '64:ff9b:1::/48',
  '100::/64',
  '2001::/23',
  '2001:db8::/32',
  '2002::/16',
  'fc00::/7',
  'fe80::/10',
  'fec0::/10',
  'ff00::/8',
];

/** Networks by family: a BlockList holding IPv6 rules also matches IPv4 addresses against them
 * (as if mapped), so each family gets a list of its own. */
export interface Networks {
  v4: BlockList;
  v6: BlockList;
}

/** Parses addresses and ADDRESS/PREFIX networks; throws naming the first entry that is neither. */
export function parseNetworks(entries: string[]): Networks {
  const out = { v4: new BlockList(), v6: new BlockList() };
  for (const entry of entries) {
    const [addr = '', prefix, extra] = entry.split('/');
    const family = isIP(addr);
    const max = family === 4 ? 32 : 128;
    const bits = prefix === undefined ? max : Number(prefix);
    if (
      family === 0 ||
      extra !== undefined ||
      (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) ||
      bits > max
    )
      throw new Error(`${JSON.stringify(entry)} is not an address or ADDRESS/PREFIX network`);
    if (family === 4) out.v4.addSubnet(addr, bits, 'ipv4');
    else out.v6.addSubnet(addr, bits, 'ipv6');
  }
  return out;
}

/** The first entry that is not an address or network, or null. */
export function badNetwork(entries: string[]): string | null {
  for (const entry of entries)
    try {
      parseNetworks([entry]);
    } catch {
      return entry;
    }
  return null;
}

/** Whether `address` (an IP address; anything else is in no network) lies in `list`. An
 * IPv4-mapped IPv6 address is an IPv6 address here: whoever means the IPv4 one unwraps it. */
export function inNetworks(list: Networks, address: string): boolean {
  const family = isIP(address);
  if (family === 4) return list.v4.check(address, 'ipv4');
  if (family === 6) return list.v6.check(address, 'ipv6');
  return false;
}

const INSIDE = parseNetworks([...INSIDE_V4, ...INSIDE_V6]);

/** Whether `address` is an IP address on the public internet, one the server may connect to
 * without an administrator having listed it. */
export function publicAddress(address: string): boolean {
  return isIP(address) !== 0 && !inNetworks(INSIDE, address);
}
