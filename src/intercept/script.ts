/**
 * Loading a hooks module (`--script FILE`): CommonJS (.js, .cjs), an ES module (.mjs, or
 * .js under "type": "module"), or TypeScript (.ts, .mts, .cts: compiled with the project's
 * TypeScript, `typescript` from node_modules). Whatever goes wrong (no such file, a syntax
 * error, an exception while loading, no hook exported) is one line naming the file.
 */
import * as fs from 'fs';
import Module from 'module';
import * as path from 'path';
import { pathToFileURL } from 'url';
import type { Decider } from './engine';
import type { Hooks } from './types';

/** A hooks file that cannot be used: `message` is one line. */
export class HooksError extends Error {}

/** import() kept as is: TypeScript's CommonJS output would turn it into require(). */
const importModule = new Function('url', 'return import(url)') as (url: string) => Promise<Record<string, unknown>>;

/** Loads the hooks file and returns its hooks as a decider of the intercept stage. */
export async function loadHooks(file: string): Promise<Decider> {
  const full = path.resolve(file);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(full);
  } catch {
    throw new HooksError(`hooks file ${file}: no such file`);
  }
  if (!stat.isFile()) throw new HooksError(`hooks file ${file}: not a file`);
  const ext = path.extname(full).toLowerCase();
  let exports: Record<string, unknown>;
  try {
    if (ext === '.ts' || ext === '.mts' || ext === '.cts') exports = compileTypeScript(full, file);
    else if (ext === '.mjs') exports = await importModule(pathToFileURL(full).href);
    else if (ext === '.js' || ext === '.cjs') exports = await requireOrImport(full);
    else throw new HooksError(`hooks file ${file}: expected a .js, .mjs, .cjs or .ts file`);
  } catch (err) {
    if (err instanceof HooksError) throw err;
    throw new HooksError(`hooks file ${file}: ${describeLoadError(err, full)}`);
  }
  return hooksOf(exports, file);
}

/** A .js file is CommonJS unless its package says "type": "module" (then require fails). */
async function requireOrImport(full: string): Promise<Record<string, unknown>> {
  try {
    return require(full);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE') return importModule(pathToFileURL(full).href);
    throw err;
  }
}

function compileTypeScript(full: string, file: string): Record<string, unknown> {
  let ts: typeof import('typescript');
  try {
    ts = require('typescript');
  } catch {
    throw new HooksError(`hooks file ${file}: a .ts hooks file needs the typescript package (npm install typescript), or write it as .js`);
  }
  const source = fs.readFileSync(full, 'utf8');
  const out = ts.transpileModule(source, {
    fileName: full,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: false },
  });
  const problem = out.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
  if (problem) {
    const where = problem.file && problem.start !== undefined ? problem.file.getLineAndCharacterOfPosition(problem.start) : null;
    const text = ts.flattenDiagnosticMessageText(problem.messageText, ' ');
    throw new HooksError(`hooks file ${file}: syntax error${where ? ` at line ${where.line + 1}` : ''}: ${text}`);
  }
  const mod = new Module(full, module);
  mod.filename = full;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(full));
  (mod as unknown as { _compile(code: string, filename: string): void })._compile(out.outputText, full);
  return mod.exports as Record<string, unknown>;
}

/** "syntax error at line 3: Unexpected token '}'", or the exception's first line. */
function describeLoadError(err: unknown, full: string): string {
  const e = err as Error;
  const message = String(e?.message ?? err).split('\n')[0];
  if (e instanceof SyntaxError) {
    // Node puts "FILE:LINE" as the first line of a syntax error's stack.
    const m = new RegExp(`${escapeRegExp(full)}:(\\d+)`).exec(String(e.stack ?? ''));
    return `syntax error${m ? ` at line ${m[1]}` : ''}: ${message}`;
  }
  return `failed while loading: ${message}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The hooks a module exports (directly, or on its default export). */
function hooksOf(exports: Record<string, unknown>, file: string): Decider {
  const candidates = [exports, exports?.default as Record<string, unknown> | undefined].filter((c): c is Record<string, unknown> => typeof c === 'object' && c !== null);
  const source = candidates.find((c) => 'onFrame' in c || 'onMessage' in c);
  if (!source) throw new HooksError(`hooks file ${file}: exports neither onFrame nor onMessage`);
  const hooks: Hooks = {};
  for (const name of ['onFrame', 'onMessage'] as const) {
    const value = source[name];
    if (value === undefined) continue;
    if (typeof value !== 'function') throw new HooksError(`hooks file ${file}: ${name} is ${typeof value}, not a function`);
    hooks[name] = value as never;
  }
  return { by: 'script', ...hooks } as Decider;
}
