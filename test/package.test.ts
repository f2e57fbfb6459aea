/**
 * The package as a user gets it: `npm pack`, the tarball installed into a fresh project
 * (offline: its dependencies come from npm's cache, filled by `npm ci`, through a lockfile
 * made from ours), then `require('wsscope')`, `import 'wsscope'`, every example of
 * docs/api.md run there, and a TypeScript file type-checked against the shipped types.
 * Needs the build (`npm test` builds first).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCommand } from './teach/helpers';

const ROOT = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** A hooks module for --script, typed by the package: every hook type in use. */
const HOOKS_MODULE = `import type { FrameHook, MessageHook, HookFrameSpec, HookResult } from 'wsscope';

export const onFrame: FrameHook = (frame, api) => {
  if (frame.opcode === 9) return 'drop';
  if (frame.dir === 'server' && frame.payloadBytes.length === 0) api.send('server', { opcode: 'pong', payload: Buffer.alloc(0) });
  return undefined;
};

export const onMessage: MessageHook = async (message, api) => {
  if (message.text === 'bye') {
    api.close(1000, 'done');
    return 'drop';
  }
  const upper: HookFrameSpec = { opcode: 'text', payload: message.bytes.toString('utf8').toUpperCase(), compress: message.compressed };
  const result: HookResult = message.dir === 'client' ? [upper] : undefined;
  return result;
};
`;

let dir: string;
let project: string;

/** The code blocks of docs/api.md with their language. */
function apiExamples(): { lang: string; code: string; line: number }[] {
  const text = fs.readFileSync(path.join(ROOT, 'docs/api.md'), 'utf8');
  const blocks: { lang: string; code: string; line: number }[] = [];
  const re = /^```(\w+)\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    blocks.push({ lang: m[1], code: m[2], line: text.slice(0, m.index).split('\n').length });
  }
  return blocks;
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsscope-package-'));
  project = path.join(dir, 'consumer');
  fs.mkdirSync(project);
  // --ignore-scripts: dist/ is already built; pack exactly what `files` ships.
  const tarball = execFileSync(npm, ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop()!;
  const resolved = `file:../${tarball}`;
  // A lockfile for the consumer: wsscope from the tarball, its dependencies as our lockfile
  // pins them, so that `npm ci --offline` takes them from the cache by their integrity.
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', version: '1.0.0', dependencies: { wsscope: resolved } },
    'node_modules/wsscope': { version: pkg.version, resolved, license: pkg.license, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines },
  };
  // Each dependency where Node would find it from its dependent (the nearest
  // node_modules/NAME up the tree, as the lockfile lays the tree out), transitively.
  // Optional dependencies are left out (cbor-x's native helper: it does not install here,
  // and cbor-x works without it), so their lock entries are dropped from their dependents.
  const locate = (from: string, name: string): string => {
    for (let dir = from; ; dir = dir.replace(/\/?node_modules\/(@[^/]+\/)?[^/]+$/, '')) {
      const key = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      if (lock.packages[key]) return key;
      if (!dir) throw new Error(`${name} (needed by ${from || 'wsscope'}) is not in package-lock.json`);
    }
  };
  const todo: [string, string][] = Object.keys(pkg.dependencies).map((name) => ['', name]);
  while (todo.length) {
    const [from, name] = todo.shift()!;
    const key = locate(from, name);
    if (packages[key]) continue;
    const { optionalDependencies: _optional, ...entry } = lock.packages[key];
    packages[key] = entry;
    for (const dep of Object.keys(entry.dependencies ?? {})) todo.push([key, dep]);
  }
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, dependencies: { wsscope: resolved } }, null, 2));
  fs.writeFileSync(path.join(project, 'package-lock.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2));
  execFileSync(npm, ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: project, encoding: 'utf8' });
}, 120_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('the tarball ships the build, its types and its ES module face, and no sources or tests', () => {
  const root = path.join(project, 'node_modules/wsscope');
  for (const file of ['dist/index.js', 'dist/index.d.ts', 'dist/index.mjs', 'dist/index.d.mts', 'bin/wsscope.js', 'docs/api.md']) {
    expect(fs.existsSync(path.join(root, file))).toBe(true);
  }
  expect(fs.existsSync(path.join(root, 'src'))).toBe(false);
  expect(fs.existsSync(path.join(root, 'test'))).toBe(false);
});

test('require and import give the same functions', async () => {
  const script = `
    const cjs = require('wsscope');
    import('wsscope').then((esm) => {
      const names = ['decodeFile', 'decodeBytes', 'ConnectionDecoder', 'startProxy', 'startBackend', 'buildFrame', 'readCapture', 'CaptureWriter', 'HarWriter'];
      for (const n of names) {
        if (typeof cjs[n] !== 'function') throw new Error('require: ' + n + ' missing');
        if (esm[n] !== cjs[n]) throw new Error('import: ' + n + ' differs');
      }
      console.log(names.length);
    });`;
  const r = await runCommand(process.execPath, ['-e', script], { cwd: project });
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('9\n');
});

test('the CLI runs from the installed package', async () => {
  const r = await runCommand(process.execPath, [path.join(project, 'node_modules/.bin/wsscope'), 'decode', '--hex', '81 05 48 65 6c 6c 6f', '--ui', 'json'], { cwd: project });
  expect(r.code).toBe(0);
  expect(r.stdout.split('\n')[1]).toMatch(/^\{"event":"message".*"text":"Hello"/);
});

describe('every example of docs/api.md runs', () => {
  const examples = apiExamples();
  it('has examples of each kind', () => {
    expect(new Set(examples.map((e) => e.lang))).toEqual(new Set(['js', 'mjs', 'ts']));
  });
  for (const [i, example] of examples.entries()) {
    if (example.lang === 'ts') continue;
    it(`the ${example.lang} example at docs/api.md:${example.line}`, async () => {
      const file = path.join(project, `example-${i}.${example.lang === 'mjs' ? 'mjs' : 'cjs'}`);
      fs.writeFileSync(file, example.code);
      const r = await runCommand(process.execPath, [file], { cwd: project });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    });
  }
  it('the TypeScript examples type-check against the shipped types, as CommonJS and as an ES module', () => {
    const ts = examples.filter((e) => e.lang === 'ts');
    expect(ts.length).toBeGreaterThan(0);
    ts.forEach((e, i) => {
      fs.writeFileSync(path.join(project, `typed-${i}.cts`), e.code);
      fs.writeFileSync(path.join(project, `typed-${i}.mts`), e.code);
    });
    // A deliberate type error must be caught, or the check proves nothing.
    fs.writeFileSync(path.join(project, 'wrong.mts'), "import { buildFrame } from 'wsscope';\nbuildFrame({ payload: 'no opcode' });\n");
    // A --script hooks module typed with the package's hook types, and one that returns
    // what a hook may not ("dorp" is neither undefined, "drop" nor a frame spec).
    fs.writeFileSync(path.join(project, 'hooks.mts'), HOOKS_MODULE);
    fs.writeFileSync(path.join(project, 'hooks.cts'), HOOKS_MODULE);
    fs.writeFileSync(path.join(project, 'wrong-hooks.mts'), "import type { FrameHook } from 'wsscope';\nexport const onFrame: FrameHook = () => 'dorp';\n");
    // One tsc run (it is the slow part): the examples and hooks must have no error, each wrong file its one.
    const files = [...ts.flatMap((_, i) => [`typed-${i}.cts`, `typed-${i}.mts`]), 'hooks.mts', 'hooks.cts', 'wrong.mts', 'wrong-hooks.mts'];
    const compilerOptions = { strict: true, noEmit: true, skipLibCheck: true, module: 'node16', moduleResolution: 'node16', target: 'ES2022', types: ['node'], typeRoots: [path.join(ROOT, 'node_modules/@types')] };
    fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }));
    let output = '';
    try {
      execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: project, encoding: 'utf8' });
    } catch (err) {
      output = String((err as { stdout?: string }).stdout);
    }
    const errors = output.split('\n').filter((line) => /error TS/.test(line)).sort();
    expect(errors).toEqual([
      expect.stringMatching(/^wrong-hooks\.mts\(2,41\): error TS2322: Type '"dorp"' is not assignable to type 'HookResult \| Promise<HookResult>'/),
      expect.stringMatching(/^wrong\.mts\(2,12\): error TS2345: Argument of type '\{ payload: string; \}' is not assignable to parameter of type 'FrameSpec'/),
    ]);
  }, 60_000);
});

test('package-lock.json matches package.json (so npm install leaves it as it is)', () => {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
  const root = lock.packages[''];
  expect({ name: root.name, version: root.version, dependencies: root.dependencies, devDependencies: root.devDependencies, engines: root.engines }).toEqual({
    name: pkg.name,
    version: pkg.version,
    dependencies: pkg.dependencies,
    devDependencies: pkg.devDependencies,
    engines: pkg.engines,
  });
});
