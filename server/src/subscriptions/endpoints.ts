/**
 * Where notifications may go (the operator's allow-list), checked when a
 * Subscription is written (its URL) and again at delivery on the address the
 * name resolves to (so a name cannot be re-pointed at an internal address):
 * - https only; http only to loopback, when loopback is allowed;
 * - loopback (127.0.0.0/8, ::1) only when allowed (the embedded default);
 * - private, link-local and other internal ranges only under a prefix the
 *   operator listed;
 * - with a list, only under a listed prefix.
 */
import { BlockList, isIP } from 'node:net';
import { FhirError } from '../fhir/errors.ts';
import type { SubscriptionConfig } from '../config.ts';

export type EndpointPolicy = Pick<SubscriptionConfig, 'allowedEndpoints' | 'allowLoopback'>;

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

const INTERNAL = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  INTERNAL.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  INTERNAL.addSubnet(net, bits, 'ipv6');
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

function listed(url: string, policy: EndpointPolicy): boolean {
  return policy.allowedEndpoints.some((prefix) => url.startsWith(prefix));
}

/** Throws 422 when a Subscription's endpoint is not one notifications may go to. */
export function checkEndpoint(endpoint: string, policy: EndpointPolicy): void {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw refuse(`channel.endpoint "${endpoint}" is not a URL`);
  }
  const loopback = LOOPBACK_NAMES.has(url.hostname) || (isIP(url.hostname) === 4 && LOOPBACK.check(url.hostname));
  if (url.username || url.password) throw refuse('channel.endpoint may not carry credentials (use channel.header)');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback && policy.allowLoopback)) {
    throw refuse(`channel.endpoint must be https (got ${url.protocol.replace(':', '')})`);
  }
  if (loopback && !policy.allowLoopback && !listed(endpoint, policy)) {
    throw refuse('channel.endpoint is a loopback address, which this server does not deliver to');
  }
  if (!loopback && policy.allowedEndpoints.length && !listed(endpoint, policy)) {
    throw refuse(
      `channel.endpoint is not under an address the operator allows (${policy.allowedEndpoints.join(', ')})`,
    );
  }
}

/** Whether a delivery to `endpoint` may connect to the resolved `address`. */
export function addressAllowed(mapped: string, endpoint: string, policy: EndpointPolicy): boolean {
  // An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is judged as the IPv4 address it is.
  const address = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(mapped)?.[1] ?? mapped;
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (LOOPBACK.check(address, family)) return policy.allowLoopback || listed(endpoint, policy);
  if (INTERNAL.check(address, family)) return listed(endpoint, policy);
  return !policy.allowedEndpoints.length || listed(endpoint, policy);
}

function refuse(message: string): FhirError {
  return new FhirError('business-rule', message, { expression: ['Subscription.channel.endpoint'] });
}
