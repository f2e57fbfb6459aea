/**
 * The sample library (samples/README.md): every capture replayed through `wsscope decode`
 * (in-process) must match its golden files byte for byte. UPDATE_GOLDEN=1 rewrites the
 * goldens instead (then review `git diff samples/`).
 */
import * as fs from 'fs';
import * as path from 'path';
import { buildSamples, CAPTURE_SUFFIX, readme, RECORDED, type Sample } from '../samples/generate';
import { decodeMain } from '../src/cli/decode';
import { RULES } from '../src/decoder/constants';

const DIR = path.join(__dirname, '..', 'samples');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
/** The goldens keep at most this many payload bytes per frame/message (samples/README.md). */
const GOLDEN_ARGS = ['--max-payload', '1024'];

const names = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith(CAPTURE_SUFFIX))
  .map((f) => f.slice(0, -CAPTURE_SUFFIX.length))
  .sort();

async function decode(name: string, ui: 'text' | 'json'): Promise<string> {
  let out = '';
  const code = await decodeMain([path.join(DIR, name + CAPTURE_SUFFIX), '--ui', ui, ...GOLDEN_ARGS], (text) => (out += text));
  expect(code).toBe(0);
  return out;
}

function checkGolden(file: string, actual: string): void {
  const golden = path.join(DIR, file);
  if (UPDATE) {
    fs.writeFileSync(golden, actual);
    return;
  }
  if (!fs.existsSync(golden)) {
    throw new Error(`samples/${file} is missing: run UPDATE_GOLDEN=1 npx jest test/samples.test.ts, then review it`);
  }
  expect(actual).toBe(fs.readFileSync(golden, 'utf8'));
}

describe('samples match their goldens', () => {
  it('has samples', () => {
    expect(names.length).toBeGreaterThan(10);
  });

  describe.each(names)('%s', (name) => {
    it('--ui text matches NAME.golden.txt', async () => {
      checkGolden(`${name}.golden.txt`, await decode(name, 'text'));
    });
    it('--ui json matches NAME.golden.ndjson', async () => {
      checkGolden(`${name}.golden.ndjson`, await decode(name, 'json'));
    });
  });

  it('has no golden without its capture', () => {
    const orphans = fs
      .readdirSync(DIR)
      .filter((f) => /\.golden\.(txt|ndjson)$/.test(f))
      .filter((f) => !names.includes(f.replace(/\.golden\.(txt|ndjson)$/, '')));
    expect(orphans).toEqual([]);
  });
});

describe('the library covers every rule', () => {
  it.each(Object.keys(RULES))('rule %s has a violation sample that reports it', async (rule) => {
    const name = `violation-${rule}`;
    if (!names.includes(name)) throw new Error(`no sample samples/${name}${CAPTURE_SUFFIX} for rule ${rule}: add one to samples/generate.ts`);
    const rules = (await decode(name, 'json'))
      .trim()
      .split('\n')
      .flatMap((line) => (JSON.parse(line).violations ?? []) as { rule: string }[])
      .map((v) => v.rule);
    expect(rules).toContain(rule);
  });

  it('samples that are not violation-* break no rule', async () => {
    const broken: string[] = [];
    for (const name of names.filter((n) => !n.startsWith('violation-'))) {
      const out = await decode(name, 'json');
      for (const line of out.trim().split('\n')) {
        const event = JSON.parse(line);
        for (const v of event.violations ?? []) broken.push(`${name}: ${v.rule}: ${v.message}`);
        if (event.event === 'error') broken.push(`${name}: error: ${event.message}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('samples/generate.ts', () => {
  let samples: Sample[];
  beforeAll(async () => {
    samples = await buildSamples();
  });

  it('generated every committed capture, and the committed captures are its output', () => {
    expect([...samples, ...RECORDED].map((s) => s.name).sort()).toEqual(names);
    for (const sample of samples) {
      // zlib output may differ between zlib builds; those are checked through their goldens.
      if (sample.zlib) continue;
      expect({ name: sample.name, capture: fs.readFileSync(path.join(DIR, sample.name + CAPTURE_SUFFIX), 'utf8') }).toEqual({ name: sample.name, capture: sample.capture });
    }
  });

  it('samples/README.md is up to date and lists every sample', () => {
    expect(fs.readFileSync(path.join(DIR, 'README.md'), 'utf8')).toBe(readme(samples));
  });

  it('every capture is deterministic: no two runs differ', async () => {
    const again = await buildSamples();
    expect(again.map((s) => s.capture)).toEqual(samples.map((s) => s.capture));
  });
});
