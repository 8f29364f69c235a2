// Prints a StrykerJS JSON report (mutation-testing-report-schema) the way
// scripts/mutation.sh shows every tool's result: one score line, then one line per
// mutant that no test killed (file:line, mutator, replacement).
//   node summary.mjs <mutation.json> <package label>
import { readFileSync } from 'node:fs';

const [reportFile, label] = process.argv.slice(2);
const report = JSON.parse(readFileSync(reportFile, 'utf8'));

const counts = {
  Killed: 0,
  Timeout: 0,
  Survived: 0,
  NoCoverage: 0,
  CompileError: 0,
  RuntimeError: 0,
  Ignored: 0,
};
const alive = [];
for (const [file, { mutants }] of Object.entries(report.files)) {
  for (const mutant of mutants) {
    counts[mutant.status] = (counts[mutant.status] ?? 0) + 1;
    if (mutant.status === 'Survived' || mutant.status === 'NoCoverage') {
      alive.push({ file, mutant });
    }
  }
}
// Stryker's "total" score: compile and runtime errors are not mutants a test could kill.
const detected = counts.Killed + counts.Timeout;
const valid = detected + counts.Survived + counts.NoCoverage;
const score = valid === 0 ? 100 : (100 * detected) / valid;
console.log(
  `score ${score.toFixed(
    2,
  )} ${label}: killed ${detected} of ${valid}, survived ${counts.Survived}, ` +
    `no coverage ${counts.NoCoverage}, type errors ${counts.CompileError}`,
);
alive.sort(
  (a, b) =>
    a.file.localeCompare(b.file) ||
    a.mutant.location.start.line - b.mutant.location.start.line,
);
for (const { file, mutant } of alive) {
  const replacement = (mutant.replacement ?? '')
    .replace(/\s+/g, ' ')
    .slice(0, 100);
  const status = mutant.status === 'NoCoverage' ? ' (no test covers it)' : '';
  console.log(
    `  ${file}:${mutant.location.start.line}  ${mutant.mutatorName}  ${replacement}${status}`,
  );
}
