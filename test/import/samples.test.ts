/**
 * samples/import/: the hand-built captures are what samples/import/generate.ts builds, and
 * every sample (hand-built, recorded with dumpcap, HAR) decodes to its goldens byte for
 * byte. UPDATE_GOLDEN=1 rewrites the goldens (then review `git diff samples/import`).
 */
import * as fs from 'fs';
import * as path from 'path';
import { IMPORT_SAMPLES } from '../../samples/import/generate';
import { decodeMain } from '../../src/cli/decode';

const DIR = path.join(__dirname, '../../samples/import');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const names = fs
  .readdirSync(DIR)
  .filter((f) => /\.(pcap|pcapng|har)$/.test(f))
  .sort();

async function decode(file: string, ui: 'text' | 'json'): Promise<string> {
  let out = '';
  const code = await decodeMain([path.join(DIR, file), '--ui', ui, '--max-payload', '1024'], (t) => (out += t));
  expect(code).toBe(0);
  return out;
}

function checkGolden(file: string, actual: string): void {
  const golden = path.join(DIR, file);
  if (UPDATE) return fs.writeFileSync(golden, actual);
  if (!fs.existsSync(golden)) throw new Error(`samples/import/${file} is missing: run UPDATE_GOLDEN=1 npx jest test/import/samples.test.ts, then review it`);
  expect(actual).toBe(fs.readFileSync(golden, 'utf8'));
}

test('the hand-built samples are what the script builds', () => {
  for (const s of IMPORT_SAMPLES) expect(fs.readFileSync(path.join(DIR, s.name)).equals(s.build())).toBe(true);
});

test('every sample is listed in samples/import/README.md', () => {
  const readme = fs.readFileSync(path.join(DIR, 'README.md'), 'utf8');
  for (const name of names) expect(readme).toContain(`\`${name}\``);
});

describe.each(names)('%s', (name) => {
  test('--ui json matches NAME.golden.ndjson, --ui text NAME.golden.txt', async () => {
    checkGolden(`${name}.golden.ndjson`, await decode(name, 'json'));
    checkGolden(`${name}.golden.txt`, await decode(name, 'text'));
  });
});
