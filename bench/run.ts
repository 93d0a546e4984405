/**
 * Runs every `bench/*.bench.ts` module (or those whose file name contains one of the
 * arguments: `npx tsx bench/run.ts merge`) and prints one table. Targets are printed as
 * met/missed, never asserted: the exit code is 0 unless a benchmark throws.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchModule, BenchResult } from './bench';

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));

const files = readdirSync(here)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();

if (files.length === 0) {
  console.error(`no benchmark in ${here} matches ${filters.map((f) => JSON.stringify(f)).join(', ') || '*.bench.ts'}`);
  process.exit(1);
}

interface Row {
  file: string;
  result: BenchResult;
}

const rows: Row[] = [];
const failures: { file: string; error: unknown }[] = [];

for (const file of files) {
  process.stderr.write(`running ${file} …\n`);
  try {
    const module = (await import(pathToFileURL(join(here, file)).href)) as Partial<BenchModule>;
    if (typeof module.run !== 'function') throw new Error(`${file} does not export run()`);
    for (const result of await module.run()) rows.push({ file, result });
  } catch (error) {
    failures.push({ file, error });
    console.error(`${file} failed:`, error);
  }
}

printTable(rows);

if (failures.length > 0) {
  console.error(`\n${failures.length} benchmark module(s) failed: ${failures.map((f) => f.file).join(', ')}`);
  process.exitCode = 1;
}

function printTable(rows: readonly Row[]): void {
  const header = ['benchmark', 'figure', 'unit', 'baseline', 'ratio', 'target', 'met'];
  const body = rows.map(({ result }) => [
    result.name,
    formatNumber(result.value),
    result.unit,
    result.baseline ? `${formatNumber(result.baseline.value)} (${result.baseline.name})` : '',
    result.ratio === undefined ? '' : `${(result.ratio * 100).toFixed(1)}%`,
    result.target ?? '',
    result.met === undefined ? '' : result.met ? 'met' : 'missed',
  ]);
  const numeric = new Set([1, 4]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((line) => line[column]!.length)));
  const format = (line: readonly string[]) =>
    line
      .map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  console.log();
  console.log(format(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const line of body) console.log(format(line));
  const targets = rows.filter(({ result }) => result.met !== undefined);
  if (targets.length > 0) {
    const met = targets.filter(({ result }) => result.met).length;
    console.log(`\ntargets met: ${met}/${targets.length}`);
  }
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 1 ? 2 : 4;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
