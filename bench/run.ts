/**
 * `npm run bench`: the decoder benchmark (bench/decoder.ts: ours against ws's Receiver),
 * then the proxy's (bench/proxy.ts: direct, a blind relay, its floor with wsscope's output
 * sizes, `wsscope --ui json` and the terminal UI side by side; then the scale test).
 * `npm run bench -- --quick` (or BENCH_QUICK=1): smaller loads, one repetition, a sanity
 * run of a minute or two. The full run takes several minutes. Other knobs: BENCH_CASE
 * (decoder case), BENCH_DECODER=0, BENCH_SIDE=0 (no side-by-side loads), BENCH_REPS, BENCH_MODES,
 * BENCH_PHASES, BENCH_SCALE=0, BENCH_NODE_ARGS, BENCH_BASE=DIR (another built checkout's json and
 * terminal UI side by side with this one's: before/after ratios), BENCH_DEBUG=1
 * (see each file). Speed is measured here, never in tests.
 */
import * as os from 'os';
import { main as decoderBench } from './decoder';
import { main as proxyBench } from './proxy';

async function run(): Promise<void> {
  const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
  const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`wsscope benchmark${quick ? ' (quick)' : ''}: node ${process.version}, ${os.cpus().length} cores, load average ${load()} at the start`);
  if (process.env.BENCH_DECODER !== '0') {
    await decoderBench(quick);
    console.log('');
  }
  await proxyBench(quick);
  console.log(`load average ${load()} at the end (1, 5, 15 minutes: other work on the machine skews absolute numbers; the ratios are taken within each repetition)`);
}

run().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
