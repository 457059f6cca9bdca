/**
 * One POST to a rest-hook endpoint: the channel's headers, Content-Type as
 * channel.payload, an HMAC-SHA256 signature of the timestamp and body with
 * the subscription's secret, an idempotency key naming the events, a timeout,
 * no redirects followed (a 3xx is a failed delivery), and a connection only to an address the endpoint
 * policy allows (checked on the resolved address).
 */
import { createHmac } from 'node:crypto';
import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import { addressAllowed, type EndpointPolicy } from './endpoints.ts';

export interface Post {
  endpoint: string;
  headers: [string, string][];
  contentType?: string;
  body?: string;
  secret: string;
  /** Names what is delivered (subscription and event numbers): the same on a retry. */
  idempotencyKey: string;
  timeoutMs: number;
}

export const SIGNATURE_HEADER = 'x-hearth-signature';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (the body is empty for an empty notification). */
export function signature(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

export class RestHook {
  private readonly agents = new Map<string, Agent>();

  constructor(private readonly policy: EndpointPolicy) {}

  /** Sends; resolves on a 2xx, throws with the reason otherwise. */
  async send(post: Post): Promise<void> {
    // An address literal is never looked up: checked here (names are checked on the address they resolve to).
    const host = new URL(post.endpoint).hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !addressAllowed(host, post.endpoint, this.policy)) {
      throw new Error(`${host} is an address notifications may not go to`);
    }
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {};
    for (const [name, value] of post.headers) headers[name.toLowerCase()] = value;
    if (post.contentType) headers['content-type'] = post.contentType;
    headers[SIGNATURE_HEADER] = signature(post.secret, timestamp, post.body ?? '');
    headers['idempotency-key'] = post.idempotencyKey;
    const response = await request(post.endpoint, {
      method: 'POST',
      headers,
      body: post.body,
      dispatcher: this.agentFor(post.endpoint),
      headersTimeout: post.timeoutMs,
      bodyTimeout: post.timeoutMs,
      signal: AbortSignal.timeout(post.timeoutMs),
    });
    await response.body.dump().catch(() => undefined);
    if (response.statusCode < 200 || response.statusCode > 299) {
      throw new Error(`the endpoint answered ${response.statusCode}`);
    }
  }

  /** One keep-alive agent per endpoint, whose connections go only to allowed addresses. */
  private agentFor(endpoint: string): Agent {
    let agent = this.agents.get(endpoint);
    if (!agent) {
      const policy = this.policy;
      agent = new Agent({
        keepAliveTimeout: 30_000,
        connect: {
          lookup(hostname, options, callback) {
            lookup(hostname, { ...options, all: false }, (error, address, family) => {
              if (error) return callback(error, address, family);
              if (!addressAllowed(address as string, endpoint, policy)) {
                return callback(
                  new Error(`${hostname} resolves to ${String(address)}, where notifications may not go`),
                  '',
                  0,
                );
              }
              callback(null, address, family);
            });
          },
        },
      });
      this.agents.set(endpoint, agent);
    }
    return agent;
  }

  async close(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => a.close().catch(() => undefined)));
    this.agents.clear();
  }
}
