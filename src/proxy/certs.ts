/**
 * The certificates the front serves to TLS clients: one's own (--cert/--key) for every
 * name, or leaves from the local CA (src/ca), opened (and created) on the first TLS
 * connection only, so a proxy that never sees TLS never touches $WSSCOPE_HOME.
 */
import * as fs from 'fs';
import * as tls from 'tls';
import { LEAF_CACHE, LocalCa, wsscopeHome } from '../ca';

export interface CertOptions {
  /** PEM certificate (chain) and key files to serve instead of the CA's leaves. */
  cert?: string;
  key?: string;
  /** Where the CA lives (default $WSSCOPE_HOME or ~/.wsscope). */
  home?: string;
  /** The most leaves (and TLS contexts) kept, one per set of names (default 1000). */
  cacheSize?: number;
}

export class ServerCerts {
  private own: tls.SecureContext | null = null;
  private ca: Promise<LocalCa> | null = null;
  private readonly contexts = new Map<string, Promise<tls.SecureContext>>();

  /** Throws a one-line Error when --cert/--key cannot be read or do not match. */
  constructor(private readonly options: CertOptions = {}) {
    if (options.cert || options.key) {
      if (!options.cert || !options.key) throw new Error('--cert and --key go together');
      let cert: Buffer;
      let key: Buffer;
      try {
        cert = fs.readFileSync(options.cert);
        key = fs.readFileSync(options.key);
      } catch (err) {
        throw new Error(`cannot read --cert/--key: ${(err as Error).message}`);
      }
      try {
        this.own = tls.createSecureContext({ cert, key });
      } catch (err) {
        throw new Error(`bad --cert/--key (PEM certificate and its private key expected): ${(err as Error).message.split('\n')[0]}`);
      }
    }
  }

  private get cacheSize(): number {
    return this.options.cacheSize ?? LEAF_CACHE;
  }

  /** What is kept now: TLS contexts here, leaves in the CA (each at most the cache size). */
  async cached(): Promise<{ contexts: number; leaves: number }> {
    const ca = this.ca ? await this.ca.catch(() => null) : null;
    return { contexts: this.contexts.size, leaves: ca?.cachedLeaves ?? 0 };
  }

  /** True when every name gets the same (one's own) certificate. */
  get fixed(): boolean {
    return this.own !== null;
  }

  /** A context serving a certificate for `names` (the first is what the client asked for). */
  context(names: string[]): Promise<tls.SecureContext> {
    if (this.own) return Promise.resolve(this.own);
    const key = names.join(' ');
    let ctx = this.contexts.get(key);
    if (!ctx) {
      this.ca ??= LocalCa.open(this.options.home ?? wsscopeHome(), this.cacheSize).then((o) => o.ca);
      ctx = this.ca.then((ca) => ca.leaf(...names)).then((leaf) => tls.createSecureContext(leaf));
      // The CA caches the leaves; this map only saves making the context again.
      if (this.contexts.size >= this.cacheSize) this.contexts.delete(this.contexts.keys().next().value!);
      ctx.catch(() => {
        this.contexts.delete(key);
        this.ca = null; // a broken CA folder may be mended while the proxy runs
      });
      this.contexts.set(key, ctx);
    }
    return ctx;
  }
}
