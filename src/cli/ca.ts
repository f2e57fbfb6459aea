/**
 * `wsscope ca`: the local CA the proxy signs its TLS certificates with (src/ca): creates it
 * if missing, and says how to make each kind of client trust it. `--json` prints
 * `{cert, sha256, spki}` for scripts (DESIGN.md).
 */
import { parseArgs } from 'util';
import { LocalCa, wsscopeHome } from '../ca';
import { CliError } from './errors';

export const CA_USAGE = `usage: wsscope ca [--json]

The local certificate authority wsscope signs its TLS certificates with (created on first
need in $WSSCOPE_HOME, default ~/.wsscope; the key is readable by you only). Prints where
it is and how to make clients trust it; --json prints {"cert", "sha256", "spki"}.
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  if (values.help) {
    process.stdout.write(CA_USAGE);
    return 0;
  }
  if (positionals.length) throw new CliError(`unexpected argument "${positionals[0]}" (try --help)`);
  let opened: Awaited<ReturnType<typeof LocalCa.open>>;
  try {
    opened = await LocalCa.open(wsscopeHome());
  } catch (err) {
    throw new CliError((err as Error).message, 1);
  }
  const info = opened.ca.info();
  if (values.json) {
    process.stdout.write(JSON.stringify(info) + '\n');
    return 0;
  }
  const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const cert = q(info.cert);
  process.stdout.write(`${opened.created ? 'Created' : 'The'} wsscope CA: ${info.cert}
  SHA-256 fingerprint: ${info.sha256.replace(/(..)(?!$)/g, '$1:')}
  SPKI (SHA-256, base64): ${info.spki}

Clients that trust it accept the certificates wsscope makes for any host (wss:// to the
proxy, or through it as an HTTP(S) proxy). Trust it only on machines you test on.

  Node:      NODE_EXTRA_CA_CERTS=${cert} node app.js
  curl:      curl --cacert ${cert} --proxy http://127.0.0.1:9000 https://HOST/
  Python:    ssl.create_default_context(cafile=${q(info.cert)})
             (websockets: connect(url, ssl=that context); requests: verify=${cert})
  Chromium:  chromium --proxy-server=http://127.0.0.1:9000 \\
               --ignore-certificate-errors-spki-list=${info.spki}
             (a site on localhost: add --proxy-bypass-list='<-loopback>', or
             Chromium never sends it to the proxy)
  Browsers:  import ${cert} as a certificate authority (Firefox: Settings, Privacy &
             Security, Certificates, View Certificates, Authorities, Import; Chrome:
             Settings, Privacy and security, Security, Manage certificates)
  System:    Debian/Ubuntu: cp ${cert} /usr/local/share/ca-certificates/wsscope.crt &&
             update-ca-certificates (undo: remove it and run it again)
`);
  return 0;
}
