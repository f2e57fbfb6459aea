/**
 * The local certificate authority: what lets the proxy terminate TLS for any host name a
 * client asks for (DESIGN.md, "One listening port for every kind of client"). No sockets
 * here: files in, certificates out.
 *
 * - The CA lives in $WSSCOPE_HOME (default ~/.wsscope): `ca.pem` (the certificate) and
 *   `ca-key.pem` (its PKCS #8 private key, mode 0600; the folder 0700). It is created on
 *   first need and never leaves that folder.
 * - Leaf certificates are made on the fly per host (a DNS name or an IP address in the
 *   subjectAltName, RFC 5280 §4.2.1.6; browsers ignore the CN), all with one key pair made
 *   per process, and cached.
 * - Keys are EC P-256 (ECDSA with SHA-256), made and used by Node's WebCrypto; the X.509
 *   structures come from @peculiar/x509.
 */
import type * as X509 from '@peculiar/x509';
import { createHash, randomBytes, webcrypto, X509Certificate } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

let x509lib: typeof X509 | null = null;

/**
 * @peculiar/x509, loaded on first use: loading it takes about 0.2 s, longer than the rest
 * of the CLI, and a proxy that never terminates TLS never needs it (issue #13: startup).
 */
function x509(): typeof X509 {
  if (!x509lib) {
    require('reflect-metadata'); // @peculiar/x509 (through tsyringe) needs the Reflect polyfill
    const lib = require('@peculiar/x509') as typeof X509;
    lib.cryptoProvider.set(webcrypto as unknown as Parameters<typeof lib.cryptoProvider.set>[0]);
    x509lib = lib;
  }
  return x509lib;
}

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 60 * 60 * 1000;
/** At most this many leaf certificates are kept by default (the oldest goes first). */
export const LEAF_CACHE = 1000;
export const CA_CERT_FILE = 'ca.pem';
export const CA_KEY_FILE = 'ca-key.pem';

/** $WSSCOPE_HOME, or ~/.wsscope. */
export function wsscopeHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.WSSCOPE_HOME ? path.resolve(env.WSSCOPE_HOME) : path.join(os.homedir(), '.wsscope');
}

/** What `wsscope ca --json` prints. */
export interface CaInfo {
  /** Path of the CA certificate (PEM). */
  cert: string;
  /** SHA-256 of the certificate's DER, lowercase hex. */
  sha256: string;
  /** Base64 SHA-256 of its SubjectPublicKeyInfo (Chromium's --ignore-certificate-errors-spki-list). */
  spki: string;
}

/** A certificate (with the chain up to the CA, PEM) and its private key (PKCS #8 PEM). */
export interface KeyPairPem {
  cert: string;
  key: string;
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f; // positive (RFC 5280 §4.1.2.2)
  bytes[0] |= 0x01; // and without a leading zero octet
  return bytes.toString('hex');
}

function pemOfKey(der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64.replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
}

function derOfPem(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** The fingerprints of a PEM certificate. */
export function fingerprints(certPem: string): { sha256: string; spki: string } {
  const cert = new X509Certificate(certPem);
  const spkiDer = cert.publicKey.export({ type: 'spki', format: 'der' });
  return {
    sha256: createHash('sha256').update(cert.raw).digest('hex'),
    spki: createHash('sha256').update(spkiDer).digest('base64'),
  };
}

export class LocalCa {
  private readonly leaves = new Map<string, Promise<KeyPairPem>>();
  private leafKeys: Promise<{ keys: CryptoKeyPair; keyPem: string }> | null = null;

  private constructor(
    /** The folder holding it. */
    readonly dir: string,
    readonly certPem: string,
    private readonly cert: X509.X509Certificate,
    private readonly key: CryptoKey,
    /** The most leaves kept (a client can ask for any number of SNI names). */
    private readonly cacheSize: number,
  ) {}

  /** How many leaves are kept now (at most the cache size). */
  get cachedLeaves(): number {
    return this.leaves.size;
  }

  get certPath(): string {
    return path.join(this.dir, CA_CERT_FILE);
  }

  info(): CaInfo {
    return { cert: this.certPath, ...fingerprints(this.certPem) };
  }

  /**
   * Loads the CA from `dir`, creating it (and the folder, 0700) when neither file is
   * there. Throws a one-line Error when the files are unreadable, incomplete or not a CA.
   * `cacheSize`: the most leaf certificates kept (default LEAF_CACHE, 1000).
   */
  static async open(dir: string = wsscopeHome(), cacheSize = LEAF_CACHE): Promise<{ ca: LocalCa; created: boolean }> {
    const certPath = path.join(dir, CA_CERT_FILE);
    const keyPath = path.join(dir, CA_KEY_FILE);
    const hasCert = fs.existsSync(certPath);
    const hasKey = fs.existsSync(keyPath);
    if (hasCert !== hasKey) {
      throw new Error(`incomplete CA in ${dir}: ${hasCert ? CA_KEY_FILE : CA_CERT_FILE} is missing (remove ${hasCert ? CA_CERT_FILE : CA_KEY_FILE} to make a new CA)`);
    }
    if (hasCert) return { ca: await LocalCa.load(dir, certPath, keyPath, cacheSize), created: false };
    return { ca: await LocalCa.create(dir, certPath, keyPath, cacheSize), created: true };
  }

  private static async load(dir: string, certPath: string, keyPath: string, cacheSize: number): Promise<LocalCa> {
    let certPem: string;
    let keyPem: string;
    try {
      certPem = fs.readFileSync(certPath, 'utf8');
      keyPem = fs.readFileSync(keyPath, 'utf8');
    } catch (err) {
      throw new Error(`cannot read the CA in ${dir}: ${(err as Error).message}`);
    }
    let cert: X509.X509Certificate;
    let key: CryptoKey;
    const lib = x509();
    try {
      cert = new lib.X509Certificate(certPem);
      key = await webcrypto.subtle.importKey('pkcs8', derOfPem(keyPem), ALG, false, ['sign']);
    } catch {
      throw new Error(`the CA in ${dir} is not an EC P-256 certificate and key in PEM (remove ${CA_CERT_FILE} and ${CA_KEY_FILE} to make a new one)`);
    }
    return new LocalCa(dir, certPem, cert, key, cacheSize);
  }

  private static async create(dir: string, certPath: string, keyPath: string, cacheSize: number): Promise<LocalCa> {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    const now = Date.now();
    const lib = x509();
    const cert = await lib.X509CertificateGenerator.createSelfSigned({
      serialNumber: serialNumber(),
      name: `CN=wsscope local CA (${os.hostname().replace(/[,=+<>#;"\\]/g, '')}), O=wsscope`,
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + 10 * 365 * DAY),
      signingAlgorithm: ALG,
      keys,
      extensions: [
        // RFC 5280 §4.2.1.9: a CA; pathLen 0: it signs leaves only.
        new lib.BasicConstraintsExtension(true, 0, true),
        new lib.KeyUsagesExtension(lib.KeyUsageFlags.keyCertSign | lib.KeyUsageFlags.cRLSign, true),
        await lib.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const certPem = cert.toString('pem') + '\n';
    const keyPem = pemOfKey(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      // 'wx': never overwrite a CA another process just made; the key owner-only from birth.
      fs.writeFileSync(keyPath, keyPem, { mode: 0o600, flag: 'wx' });
      fs.writeFileSync(certPath, certPem, { mode: 0o644, flag: 'wx' });
    } catch (err) {
      throw new Error(`cannot create the CA in ${dir}: ${(err as Error).message}`);
    }
    return new LocalCa(dir, certPem, cert, keys.privateKey, cacheSize);
  }

  /**
   * A certificate for `hosts` (DNS names or IP addresses; the first is the CN), signed by
   * this CA, with the CA's certificate after it (so clients that match on the chain, like
   * Chromium's SPKI flag, find it). Made once per set of names and cached.
   */
  leaf(...hosts: string[]): Promise<KeyPairPem> {
    const names = [...new Set(hosts.map((h) => h.toLowerCase().replace(/^\[(.*)\]$/, '$1')))];
    const key = names.join(' ');
    let leaf = this.leaves.get(key);
    if (!leaf) {
      if (this.leaves.size >= this.cacheSize) this.leaves.delete(this.leaves.keys().next().value!);
      leaf = this.makeLeaf(names);
      leaf.catch(() => this.leaves.delete(key));
      this.leaves.set(key, leaf);
    }
    return leaf;
  }

  private async makeLeaf(names: string[]): Promise<KeyPairPem> {
    if (names.length === 0 || names.some((n) => !n || /[\s,]/.test(n))) throw new Error(`bad host name for a certificate: "${names.join(' ')}"`);
    this.leafKeys ??= (async () => {
      const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
      return { keys, keyPem: pemOfKey(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)) };
    })();
    const { keys, keyPem } = await this.leafKeys;
    const host = names[0];
    const ip = net.isIP(host) !== 0;
    const now = Date.now();
    const lib = x509();
    const cert = await lib.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject: `CN=${ip ? host : host.replace(/[,=+<>#;"\\]/g, '')}`,
      issuer: this.cert.subject,
      notBefore: new Date(now - DAY),
      // Browsers refuse leaves valid for more than 398 days.
      notAfter: new Date(now + 397 * DAY),
      signingAlgorithm: ALG,
      publicKey: keys.publicKey,
      signingKey: this.key,
      extensions: [
        new lib.BasicConstraintsExtension(false, undefined, true),
        new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature, true),
        new lib.ExtendedKeyUsageExtension([lib.ExtendedKeyUsage.serverAuth]),
        new lib.SubjectAlternativeNameExtension(names.map((n) => ({ type: net.isIP(n) ? 'ip' : 'dns', value: n }))),
        await lib.SubjectKeyIdentifierExtension.create(keys.publicKey),
        await lib.AuthorityKeyIdentifierExtension.create(this.cert),
      ],
    });
    return { cert: cert.toString('pem') + '\n' + this.certPem, key: keyPem };
  }
}
