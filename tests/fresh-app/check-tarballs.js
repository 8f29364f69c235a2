// Checks packed tarballs as a registry would serve them: every entry point the
// package.json names is in the tarball, under dist/ (or the schema file), and no
// dependency is left as a workspace: range.
//   node tests/fresh-app/check-tarballs.js packs/*.tgz
const { execFileSync } = require('node:child_process');

const problems = [];
for (const tarball of process.argv.slice(2)) {
  const files = new Set(
    execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(f => f.replace(/^package\//, '')),
  );
  const pkg = JSON.parse(
    execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], {
      encoding: 'utf8',
    }),
  );
  const where = `${tarball} (${pkg.name})`;
  if (pkg.private) problems.push(`${where}: "private": true`);
  const entryPoints = [pkg.main, pkg.module, pkg.types];
  for (const target of Object.values(pkg.exports ?? {})) {
    if (typeof target === 'string') entryPoints.push(target);
    else entryPoints.push(...Object.values(target ?? {}));
  }
  for (const entry of new Set(entryPoints)) {
    if (!entry || !entry.includes('/') || entry.startsWith('@')) continue;
    const file = entry.replace(/^\.\//, '');
    if (file === 'package.json') continue;
    if (!file.startsWith('dist/')) {
      problems.push(`${where}: entry point ${entry} is not a built file`);
    }
    if (!files.has(file)) {
      problems.push(`${where}: entry point ${entry} is not in the tarball`);
    }
  }
  if (pkg.configSchema && !files.has(pkg.configSchema)) {
    problems.push(`${where}: configSchema ${pkg.configSchema} is missing`);
  }
  for (const field of ['dependencies', 'peerDependencies']) {
    for (const [name, range] of Object.entries(pkg[field] ?? {})) {
      if (/^(workspace|link|portal|file):/.test(range)) {
        problems.push(`${where}: ${field}.${name} is "${range}"`);
      }
    }
  }
  console.log(
    `${pkg.name}@${pkg.version}: ${files.size} files, main ${pkg.main}`,
  );
}
if (problems.length > 0) {
  console.error(
    `The tarballs are not publishable:\n- ${problems.join('\n- ')}`,
  );
  process.exit(1);
}
