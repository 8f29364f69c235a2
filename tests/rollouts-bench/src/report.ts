import fs from 'node:fs';
import path from 'node:path';

/** The monorepo root: the nearest directory up from here with backstage.json. */
export function repoRoot(from: string = process.cwd()): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'backstage.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`no backstage.json above ${from}; set BENCH_REPORT`);
    }
    dir = parent;
  }
  return dir;
}

/** artifacts/bench/rollouts.md at the repository root, unless BENCH_REPORT says otherwise. */
export const REPORT_FILE =
  process.env.BENCH_REPORT ??
  path.join(repoRoot(process.cwd()), 'artifacts/bench/rollouts.md');

/** Prints one benchmark's result (paragraphs) and appends it to the report file. */
export function report(title: string, ...paragraphs: string[]) {
  const text = `\n### ${title}\n\n${paragraphs
    .map(p => p.trim())
    .join('\n\n')}\n`;
  process.stdout.write(text);
  fs.mkdirSync(path.dirname(REPORT_FILE), { recursive: true });
  fs.appendFileSync(REPORT_FILE, text);
}

export const sleep = (ms: number) =>
  new Promise<void>(resolve => setTimeout(resolve, ms));
