// Where a benchmark writes its results. A run without --record writes into
// bench/results/local/ (ignored by git), so that running a bench never dirties
// the checkout; --record writes the tracked file in bench/results/, for a run
// meant to be committed as the reference.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const RESULTS_DIR = 'bench/results';
const LOCAL_DIR = join(RESULTS_DIR, 'local');

/** True when the command line asks for the tracked results file. */
export function recording(argv: readonly string[]): boolean {
  return argv.includes('--record');
}

/** The path `name` is written to: bench/results/<name> with --record, else bench/results/local/<name>. */
export function resultsPath(name: string, argv: readonly string[]): string {
  return join(recording(argv) ? RESULTS_DIR : LOCAL_DIR, name);
}

/** Writes `value` as JSON to resultsPath(name) and returns that path. */
export async function writeResults(name: string, value: unknown, argv: readonly string[]): Promise<string> {
  const path = resultsPath(name, argv);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
  return path;
}
