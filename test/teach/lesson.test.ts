/**
 * docs/lesson.md runs as written, and so does its translation docs/lesson.zh-CN.md. Every
 * ```sh block holds commands (lines starting with "$ ") and, under each, the output the
 * lesson shows. This test runs every command of every ```sh block with bash in the
 * repository root (`wsscope` is bin/wsscope.js, i.e. the built dist/: run `npm run build`
 * first), checks it exits 0, and compares its stdout with the output shown:
 *   - `127.0.0.1:PORT` in the lesson matches any port (the test's servers use port 0);
 *   - `[…]` in a line matches any text; a line that is just `[…]` matches any lines.
 * Blocks marked ```sh no-run (the interactive ones: npm start, the TUI, --step) are
 * documented, not executed; the lesson says so next to each.
 *
 * A translation shows the English lesson's blocks (commands and output) as they are, in
 * the same order: a block that differs fails; an English block the translation lacks (a
 * new part not translated yet) is listed as a todo. A command shown with the same output
 * in both runs once.
 *
 * The lesson assumes `npm start` in another terminal: the backend on 127.0.0.1:8080 and
 * the proxy on 127.0.0.1:9000, and for part 11 a second proxy on 127.0.0.1:9001 with
 * `--script samples/hooks/break-it.js`. The test starts the same three, on free ports,
 * and points the commands at them.
 */
import * as fs from 'fs';
import * as path from 'path';
import { startBackend } from '../../src/backend';
import { startProxy } from '../../src/proxy';
import { Session } from '../../src/session';
import { loadHooks } from '../../src/intercept/script';
import { killChildren, ROOT, runCommand } from './helpers';

const LESSON = 'docs/lesson.md';
/** Translations of docs/lesson.md: the same commands and outputs, the prose in another language. */
const TRANSLATIONS = ['docs/lesson.zh-CN.md'];

export interface LessonCommand {
  /** 1-based line of the "$ " line in the lesson. */
  line: number;
  command: string;
  expected: string[];
}

export interface LessonBlock {
  line: number;
  run: boolean;
  commands: LessonCommand[];
}

/** The ```sh blocks of a Markdown text, with their commands and shown output. */
export function parseLesson(markdown: string, name = 'lesson.md'): LessonBlock[] {
  const lines = markdown.split('\n');
  const blocks: LessonBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    const open = /^```sh(?:\s+(\S+))?\s*$/.exec(lines[i]);
    if (!open) {
      i++;
      continue;
    }
    const block: LessonBlock = { line: i + 1, run: open[1] !== 'no-run', commands: [] };
    if (open[1] !== undefined && open[1] !== 'no-run') throw new Error(`${name}:${i + 1}: unknown block marker "${open[1]}"`);
    i++;
    let current: LessonCommand | null = null;
    while (i < lines.length && lines[i] !== '```') {
      const text = lines[i];
      if (text.startsWith('$ ')) {
        current = { line: i + 1, command: text.slice(2), expected: [] };
        // A trailing backslash continues the command on the next line.
        while (current.command.endsWith('\\') && i + 1 < lines.length) {
          i++;
          current.command = current.command.slice(0, -1) + lines[i].replace(/^>\s?/, '');
        }
        block.commands.push(current);
      } else if (current) {
        current.expected.push(text);
      } else if (text.trim() !== '') {
        throw new Error(`${name}:${i + 1}: text before the first "$ " command of a sh block`);
      }
      i++;
    }
    if (i >= lines.length) throw new Error(`${name}:${block.line}: unclosed sh block`);
    blocks.push(block);
    i++;
  }
  return blocks;
}

const WILDCARD = '[…]';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One expected line as a regular expression: wildcards and ports. */
function lineRegExp(expected: string): RegExp {
  const parts = expected.split(WILDCARD).map((part) =>
    escapeRegExp(part).replace(/127\\\.0\\\.0\\\.1:\d+/g, '127\\.0\\.0\\.1:\\d+'),
  );
  return new RegExp('^' + parts.join('.*') + '$');
}

/** Does `actual` match the `expected` lines (see the file comment)? Trailing blanks are ignored. */
export function outputMatches(expected: string[], actual: string[]): boolean {
  const trim = (lines: string[]) => {
    const out = lines.map((l) => l.replace(/\s+$/, ''));
    while (out.length && out[out.length - 1] === '') out.pop();
    return out;
  };
  const want = trim(expected);
  const got = trim(actual);
  const memo = new Map<string, boolean>();
  const match = (w: number, g: number): boolean => {
    const key = `${w},${g}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (w === want.length) result = g === got.length;
    else if (want[w] === WILDCARD) result = match(w + 1, g) || (g < got.length && match(w, g + 1));
    else result = g < got.length && lineRegExp(want[w]).test(got[g]) && match(w + 1, g + 1);
    memo.set(key, result);
    return result;
  };
  return match(0, 0);
}

describe('the lesson parser and matcher', () => {
  it('finds commands, continuation lines and shown output; skips no-run blocks from running', () => {
    const md = ['text', '```sh', '$ echo a \\', '> b', 'a b', '```', '```sh no-run', '$ npm start', '```', '```', '$ not a command', '```'].join('\n');
    expect(parseLesson(md)).toEqual([
      { line: 2, run: true, commands: [{ line: 3, command: 'echo a b', expected: ['a b'] }] },
      { line: 7, run: false, commands: [{ line: 8, command: 'npm start', expected: [] }] },
    ]);
  });

  it('matches ports, in-line wildcards and whole-line wildcards, and nothing else', () => {
    expect(outputMatches(['to 127.0.0.1:9000 ok'], ['to 127.0.0.1:41234 ok'])).toBe(true);
    expect(outputMatches(['key […] end'], ['key abc= end'])).toBe(true);
    expect(outputMatches(['a', '[…]', 'z'], ['a', 'b', 'c', 'z'])).toBe(true);
    expect(outputMatches(['a', '[…]', 'z'], ['a', 'z'])).toBe(true);
    expect(outputMatches(['a', 'z'], ['a', 'b', 'z'])).toBe(false);
    expect(outputMatches(['a (b)'], ['a (c)'])).toBe(false);
    expect(outputMatches(['a'], ['a', 'b'])).toBe(false);
  });

  it('aligns a translation with the English lesson: blocks not yet translated, a changed or moved one', () => {
    const en = parseLesson(['```sh', '$ echo a', 'a', '```', 'new', '```sh', '$ echo b', 'b', '```', '```sh', '$ echo c', 'c', '```'].join('\n'));
    const zh = (md: string[]) => parseLesson(['译文', ...md].join('\n'));
    const a = ['```sh', '$ echo a', 'a', '```'];
    const c = ['```sh', '$ echo c', 'c', '```'];
    expect(alignTranslation(en, zh([...a, ...c]))).toEqual({ missing: [en[1]] });
    expect(alignTranslation(en, zh([...a, '```sh', '$ echo b', 'B', '```', ...c]))).toMatchObject({ stray: { line: 6 }, instead: en[1] });
    expect(alignTranslation(en, zh(['```sh no-run', '$ echo a', '```', ...c]))).toMatchObject({ stray: { line: 2 }, instead: en[0] });
    expect(alignTranslation(en, zh([...c, ...a]))).toMatchObject({ stray: { line: 6 }, instead: undefined });
  });
});

/** What a block shows, its line numbers left out: what a translation must keep as it is. */
function shown(block: LessonBlock): { run: boolean; commands: { command: string; expected: string[] }[] } {
  return { run: block.run, commands: block.commands.map((c) => ({ command: c.command, expected: c.expected })) };
}

/**
 * Walks a translation's blocks along the English lesson's, in order: each must be shown
 * exactly as one of the English blocks still ahead. Returns the English blocks it skips
 * (not translated yet), or the first block of the translation that matches none (`stray`)
 * with the English block that comes next at that point (`instead`).
 */
export function alignTranslation(
  english: LessonBlock[],
  translation: LessonBlock[],
): { missing: LessonBlock[]; stray?: LessonBlock; instead?: LessonBlock } {
  const same = (a: LessonBlock, b: LessonBlock) => JSON.stringify(shown(a)) === JSON.stringify(shown(b));
  const missing: LessonBlock[] = [];
  let next = 0;
  for (const block of translation) {
    const at = english.findIndex((b, k) => k >= next && same(b, block));
    if (at < 0) return { missing, stray: block, instead: english[next] };
    missing.push(...english.slice(next, at));
    next = at + 1;
  }
  return { missing: missing.concat(english.slice(next)) };
}

describe('docs/lesson.md and its translations', () => {
  const lessons = [LESSON, ...TRANSLATIONS].map((file) => {
    const name = path.basename(file);
    return { name, blocks: parseLesson(fs.readFileSync(path.join(ROOT, file), 'utf8'), name) };
  });
  const [english, ...translations] = lessons;
  // Every command runs once with the output shown, for all the lines (of any lesson) that show it so.
  const runs = new Map<string, { command: string; expected: string[]; where: string[] }>();
  for (const { name, blocks } of lessons) {
    for (const c of blocks.filter((b) => b.run).flatMap((b) => b.commands)) {
      const key = JSON.stringify([c.command, c.expected]);
      const run = runs.get(key) ?? { command: c.command, expected: c.expected, where: [] };
      run.where.push(`${name}:${c.line}`);
      runs.set(key, run);
    }
  }
  let stop: (() => Promise<void>) | undefined;
  let ports: { backend: number; proxy: number; hooks: number };

  beforeAll(async () => {
    // What `npm start` gives the lesson: the backend (no deflate, as by default) and the proxy.
    const backend = await startBackend({ host: '127.0.0.1', port: 0 });
    const proxy = await startProxy({
      listen: { host: '127.0.0.1', port: 0 },
      target: `ws://127.0.0.1:${backend.port}/json`,
      session: new Session(),
    });
    // Part 11's proxy: the same backend, through the lesson's hooks file.
    const hooks = await startProxy({
      listen: { host: '127.0.0.1', port: 0 },
      target: `ws://127.0.0.1:${backend.port}/json`,
      session: new Session(),
      intercept: { deciders: [await loadHooks(path.join(ROOT, 'samples/hooks/break-it.js'))] },
    });
    ports = { backend: backend.port, proxy: proxy.port, hooks: hooks.port };
    stop = async () => {
      await hooks.close();
      await proxy.close();
      await backend.close();
    };
  });

  afterAll(async () => {
    killChildren();
    await stop?.();
  });

  it('the lesson and its translations link to each other, and README to them all', () => {
    const files = [LESSON, ...TRANSLATIONS];
    const text = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
    for (const file of files) {
      for (const other of files.filter((f) => f !== file)) expect({ file, links: text(file).includes(`](${path.basename(other)})`) }).toEqual({ file, links: true });
      expect({ readme: text('README.md').includes(`](${file})`) }).toEqual({ readme: true });
    }
  });

  it.each(lessons.map((l) => [l.name, l] as const))('%s has commands to run, and marks the interactive ones no-run', (_name, { blocks }) => {
    expect(blocks.filter((b) => b.run).flatMap((b) => b.commands).length).toBeGreaterThan(10);
    for (const block of blocks.filter((b) => !b.run)) {
      for (const c of block.commands) expect(c.expected).toEqual([]);
    }
  });

  for (const translation of translations) {
    const { missing, stray, instead } = alignTranslation(english.blocks, translation.blocks);
    it(`${translation.name} shows the commands and outputs of ${english.name}, in its order`, () => {
      if (stray) {
        const where = `${translation.name}:${stray.line}`;
        expect({ where, ...shown(stray) }).toEqual({ where, ...(instead ? shown(instead) : { run: 'no block: past the end of ' + english.name }) });
      }
    });
    for (const block of missing) it.todo(`${translation.name}: translate the block at ${english.name}:${block.line} (${block.commands[0]?.command ?? ''})`);
  }

  it.each([...runs.values()].map((r) => [`${r.where.join(', ')}: ${r.command}`, r] as const))('%s', async (_name, c) => {
    const command = c.command
      .replace(/(^|[|;&(]\s*)(?:npx )?wsscope\b/g, `$1${JSON.stringify(process.execPath)} bin/wsscope.js`)
      .replace(/127\.0\.0\.1:9000/g, `127.0.0.1:${ports.proxy}`)
      .replace(/127\.0\.0\.1:9001/g, `127.0.0.1:${ports.hooks}`)
      .replace(/127\.0\.0\.1:8080/g, `127.0.0.1:${ports.backend}`);
    const r = await runCommand('bash', ['-o', 'pipefail', '-c', command], { timeoutMs: 60000 });
    const actual = r.stdout.split('\n');
    if (r.code !== 0 || !outputMatches(c.expected, actual)) {
      // Show the difference the way a reader of the lesson would want to see it.
      expect({ where: c.where, code: r.code, stderr: r.stderr, stdout: actual }).toEqual({
        where: c.where,
        code: 0,
        stderr: r.stderr,
        stdout: c.expected,
      });
    }
  }, 90000);
});
