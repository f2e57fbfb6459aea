/**
 * Where forward requests and tunnels may go (DESIGN.md: never an open proxy by accident).
 * Pure: host and port in, a verdict out; nothing is resolved or dialled here.
 *
 * - On a loopback listen address, anywhere, unless --allow-host limits it.
 * - On any other address, only where --allow-host says, or anywhere with --allow-forward.
 * - --allow-host HOST[:PORT] (repeatable): `*` matches any run of characters in the host
 *   (`*.example.test`) or any port; no port: any port.
 * - --passthrough HOST (same patterns): tunnels to it are relayed blind (not intercepted).
 */
import * as net from 'net';

export interface PolicyOptions {
  listenHost: string;
  allowForward?: boolean;
  allowHosts?: string[];
  passthrough?: string[];
}

interface Pattern {
  host: RegExp;
  port: number | '*';
}

/** Throws a one-line Error for a pattern that is not HOST[:PORT]. */
export function parseHostPattern(text: string, flag = '--allow-host'): Pattern {
  const m = /^(\[[0-9A-Fa-f:.*]+\]|[^:\s[\]]+)(?::([^:]*))?$/.exec(text.trim());
  if (!m) throw new Error(`bad ${flag} "${text}": expected HOST or HOST:PORT (* matches anything), e.g. 127.0.0.1:8443 or *.example.test`);
  // A port no connection can have would match nothing, silently: refuse it (RFC 9293 §3.1: 16 bits; 0 is not dialled).
  if (m[2] !== undefined && m[2] !== '*' && !(/^\d{1,5}$/.test(m[2]) && Number(m[2]) >= 1 && Number(m[2]) <= 65535)) {
    throw new Error(`bad ${flag} "${text}": the port must be 1-65535 or *, not "${m[2]}"`);
  }
  const host = m[1].replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const re = new RegExp(`^${host.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return { host: re, port: m[2] === undefined || m[2] === '*' ? '*' : Number(m[2]) };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return host === '::1' || host === '0:0:0:0:0:0:0:1';
}

export class ForwardPolicy {
  private readonly allow: Pattern[];
  private readonly blind: Pattern[];
  private readonly open: boolean;

  constructor(options: PolicyOptions) {
    this.allow = (options.allowHosts ?? []).map((p) => parseHostPattern(p));
    this.blind = (options.passthrough ?? []).map((p) => parseHostPattern(p, '--passthrough'));
    this.open = options.allowForward === true || isLoopback(options.listenHost);
  }

  /** Why a forward request or tunnel to host:port is refused (403); null when it may go. */
  refuse(host: string, port: number): string | null {
    const h = host.toLowerCase();
    if (this.allow.length) {
      return this.allow.some((p) => p.host.test(h) && (p.port === '*' || p.port === port)) ? null : `${h.includes(':') ? `[${h}]` : h}:${port} is not in --allow-host`;
    }
    return this.open ? null : 'forward proxying is off on a non-loopback listen address (--allow-host HOST or --allow-forward turns it on)';
  }

  /** A tunnel to `host` is relayed blind (--passthrough). */
  passthrough(host: string, port: number): boolean {
    const h = host.toLowerCase();
    return this.blind.some((p) => p.host.test(h) && (p.port === '*' || p.port === port));
  }
}
