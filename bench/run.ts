/**
 * `npm run bench`: the decoder benchmark (bench/decoder.ts: ours against ws's Receiver),
 * then the proxy's (bench/proxy.ts: direct, a plain TCP relay, wsscope). Each prints its
 * ratios; `BENCH_CASE` selects single cases (see each file).
 */
import { main as decoderBench } from './decoder';
import { main as proxyBench } from './proxy';

async function run(): Promise<void> {
  await decoderBench();
  console.log('');
  await proxyBench();
}

run().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
