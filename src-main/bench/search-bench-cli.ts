/**
 * Runs `runSearchBench` and prints its table; with `--doc <file>` also replaces the section between
 * `<!-- search-bench:begin -->` and `<!-- search-bench:end -->` of that Markdown file (docs/SEARCH.md), and with
 * `--json <file>` writes the raw result. Options are JSON: `--options '{"lutStatistic":"min"}'`.
 *
 * Not yet an electron-vite input: until it is, bundle and run it with
 *   npx rolldown src-main/bench/search-bench-cli.ts -f esm -p node -o node_modules/.search-bench.mjs \
 *     -e @tensorflow/tfjs,@tensorflow/tfjs-backend-wasm,@tensorflow/tfjs-core,@tensorflow/tfjs-backend-cpu,@tensorflow/tfjs-node,@tensorflow/tfjs-node-gpu
 *   node node_modules/.search-bench.mjs --doc docs/SEARCH.md
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { formatSearchBench, runSearchBench, type SearchBenchOptions, type SearchBenchResult } from './search-bench';

const BEGIN = '<!-- search-bench:begin -->';
const END = '<!-- search-bench:end -->';

/** Replaces the marked section of a Markdown text with one or more results (in order). */
export function replaceBenchSection(markdown: string, results: { title: string; result: SearchBenchResult }[]): string {
  const a = markdown.indexOf(BEGIN);
  const b = markdown.indexOf(END);
  if (a < 0 || b < a) throw new Error(`the document has no ${BEGIN} … ${END} section`);
  const body = results.map((r) => `**${r.title}** (measured ${new Date().toISOString().slice(0, 10)})\n\n${formatSearchBench(r.result)}`).join('\n\n');
  return `${markdown.slice(0, a + BEGIN.length)}\n${body}\n${markdown.slice(b)}`;
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const base = JSON.parse(arg('--options') ?? '{}') as SearchBenchOptions;
  const log = (l: string) => process.stderr.write(`${l}\n`);
  const results: { title: string; result: SearchBenchResult }[] = [];
  // The specified timing (wall clock, median) and two that resist a loaded machine (minimum; process CPU time).
  const variants: { title: string; opts: SearchBenchOptions }[] = [
    { title: 'Latency table: wall clock, median of the timed runs', opts: { lutStatistic: 'median', lutClock: 'wall' } },
    { title: 'Latency table: wall clock, minimum of the timed runs', opts: { lutStatistic: 'min', lutClock: 'wall' } },
    { title: 'Latency table: process CPU time, median of the timed runs', opts: { lutStatistic: 'median', lutClock: 'cpu' } },
  ];
  let evaluation: SearchBenchResult['evaluation'] | undefined;
  for (const v of variants) {
    // The evaluation rate is measured once (first run); later runs only re-do the latency part.
    const r = await runSearchBench({ ...base, ...v.opts, ...(evaluation ? { evaluations: 1 } : {}), log });
    evaluation ??= r.evaluation;
    results.push({ title: v.title, result: { ...r, evaluation } });
  }
  for (const r of results) process.stdout.write(`${r.title}\n${formatSearchBench(r.result)}\n\n`);
  const json = arg('--json');
  if (json) writeFileSync(json, JSON.stringify(results, null, 2));
  const doc = arg('--doc');
  if (doc) writeFileSync(doc, replaceBenchSection(readFileSync(doc, 'utf8'), results));
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`${String((e as Error)?.stack ?? e)}\n`);
  process.exit(1);
});
