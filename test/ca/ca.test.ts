/** The local CA (src/ca): files and modes, fingerprints, leaves that verify, the CLI. */
import { execFileSync, spawnSync } from 'child_process';
import { X509Certificate } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LocalCa, wsscopeHome } from '../../src/ca';
import { BIN } from '../proxy/helpers';

let home: string;
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'wsscope-ca-'));
});
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

/** The certificates of a PEM bundle, in order. */
function certsOf(bundle: string): X509Certificate[] {
  return (bundle.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map((p) => new X509Certificate(p));
}

test('$WSSCOPE_HOME, else ~/.wsscope', () => {
  expect(wsscopeHome({ WSSCOPE_HOME: '/x/y' })).toBe('/x/y');
  expect(wsscopeHome({})).toBe(path.join(os.homedir(), '.wsscope'));
});

test('created on first need: folder 0700, key 0600, a CA certificate; opened again, the same one', async () => {
  const dir = path.join(home, 'sub');
  const first = await LocalCa.open(dir);
  expect(first.created).toBe(true);
  expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
  expect(fs.statSync(path.join(dir, 'ca-key.pem')).mode & 0o777).toBe(0o600);
  const cert = new X509Certificate(fs.readFileSync(path.join(dir, 'ca.pem')));
  expect(cert.ca).toBe(true);
  expect(cert.verify(cert.publicKey)).toBe(true);
  const again = await LocalCa.open(dir);
  expect(again.created).toBe(false);
  expect(again.ca.info()).toEqual(first.ca.info());
});

test('info: sha256 of the DER and base64 SHA-256 of the SPKI, as openssl computes them', async () => {
  const { ca } = await LocalCa.open(home);
  const info = ca.info();
  expect(info.cert).toBe(path.join(home, 'ca.pem'));
  const der = execFileSync('openssl', ['x509', '-in', info.cert, '-outform', 'der']);
  const sha = execFileSync('openssl', ['dgst', '-sha256', '-r'], { input: der }).toString().split(' ')[0];
  expect(info.sha256).toBe(sha);
  const spkiDer = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: execFileSync('openssl', ['x509', '-in', info.cert, '-pubkey', '-noout']) });
  const spki = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: spkiDer }).toString('base64');
  expect(info.spki).toBe(spki);
});

test('leaves: DNS or IP SANs, signed by the CA, chain leaf then CA, cached per names', async () => {
  const { ca } = await LocalCa.open(home);
  const caCert = new X509Certificate(ca.certPem);
  const dns = await ca.leaf('Example.TEST');
  const [leaf, chained] = certsOf(dns.cert);
  expect(chained.fingerprint256).toBe(caCert.fingerprint256);
  expect(leaf.verify(caCert.publicKey)).toBe(true);
  expect(leaf.checkIssued(caCert)).toBe(true);
  expect(leaf.ca).toBe(false);
  expect(leaf.checkHost('example.test')).toBe('example.test');
  expect(leaf.checkHost('other.test')).toBeUndefined();
  expect(leaf.subjectAltName).toBe('DNS:example.test');
  const ip = certsOf((await ca.leaf('127.0.0.1', '::1', 'localhost')).cert)[0];
  expect(ip.checkIP('127.0.0.1')).toBe('127.0.0.1');
  expect(ip.checkIP('::1')).toBe('::1');
  expect(ip.checkHost('localhost')).toBe('localhost');
  expect(await ca.leaf('example.test')).toBe(dns);
  // The key matches the leaf's public key (a TLS server could not start otherwise).
  expect(() => require('tls').createSecureContext(dns)).not.toThrow();
  await expect(ca.leaf('bad name')).rejects.toThrow(/bad host name/);
});

test('an incomplete or broken CA is a one-line error, never replaced', async () => {
  fs.writeFileSync(path.join(home, 'ca.pem'), 'junk');
  await expect(LocalCa.open(home)).rejects.toThrow(/incomplete CA .*ca-key\.pem is missing/);
  fs.writeFileSync(path.join(home, 'ca-key.pem'), 'junk');
  await expect(LocalCa.open(home)).rejects.toThrow(/is not an EC P-256 certificate and key/);
  expect(fs.readFileSync(path.join(home, 'ca.pem'), 'utf8')).toBe('junk');
});

test('wsscope ca creates it and says how to trust it; --json prints {cert, sha256, spki}', async () => {
  const env = { ...process.env, WSSCOPE_HOME: home };
  const text = spawnSync(process.execPath, [BIN, 'ca'], { env, encoding: 'utf8' });
  expect(text.status).toBe(0);
  expect(text.stdout).toMatch(/^Created wsscope CA: /);
  for (const word of ['NODE_EXTRA_CA_CERTS', '--cacert', 'cafile', '--ignore-certificate-errors-spki-list', "--proxy-bypass-list='<-loopback>'"]) expect(text.stdout).toContain(word);
  const json = spawnSync(process.execPath, [BIN, 'ca', '--json'], { env, encoding: 'utf8' });
  expect(json.status).toBe(0);
  const info = JSON.parse(json.stdout);
  expect(info).toEqual((await LocalCa.open(home)).ca.info());
  expect(text.stdout).toContain(info.spki);
  fs.rmSync(path.join(home, 'ca-key.pem'));
  const broken = spawnSync(process.execPath, [BIN, 'ca'], { env, encoding: 'utf8' });
  expect(broken.status).toBe(1);
  expect(broken.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^wsscope: incomplete CA/)]);
});
