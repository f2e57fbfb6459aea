/**
 * `npm run bench`: the decoder benchmark (bench/decoder.ts), then the proxy's
 * (bench/proxy.ts) when it exists. Each exports `main(): Promise<void>`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

async function run(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  await (require('./decoder') as { main: () => Promise<void> }).main();
  if (existsSync(join(__dirname, 'proxy.ts')) || existsSync(join(__dirname, 'proxy.js'))) {
    console.log('');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    await (require('./proxy') as { main: () => Promise<void> }).main();
  }
}

run().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
