/**
 * The key a client address is counted under. IPv4 (also when mapped into IPv6) is one
 * address; IPv6 is its /64, since one subscriber line is usually given a whole /64 and could
 * otherwise rotate through 2^64 addresses to escape a per-address limit.
 */
import ipaddr from 'ipaddr.js';

export function addressKey(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const parsed = ipaddr.process(ip);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
  return `${parts.join(':')}::/64`;
}
