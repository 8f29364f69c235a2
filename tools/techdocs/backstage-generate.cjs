#!/usr/bin/env node
/*
 * Builds the root TechDocs exactly like the portal backend does: the real
 * TechdocsGenerator of @backstage/plugin-techdocs-node (runIn: local), which sanitizes
 * mkdocs.yml and runs `mkdocs build` from PATH. Then checks what the portal would hit:
 *
 *   1. the generator removed nothing from mkdocs.yml and left it byte-identical
 *      (for `dir:.` it edits the repository's own mkdocs.yml in place);
 *   2. the build succeeded (output in OUT_DIR, for check_site.py / sanitize-check.cjs);
 *   3. no symlink under the repository points outside it (the generator's
 *      validateInputDirectory refuses to build the root entity's docs otherwise).
 *
 * Usage: node tools/techdocs/backstage-generate.cjs OUT_DIR
 * Needs: the monorepo's node_modules (yarn install), mkdocs on PATH (setup-venv.sh).
 */
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { PassThrough } = require('node:stream');

const repoRoot = path.resolve(__dirname, '..', '..');
const outDir = path.resolve(
  process.argv[2] || fs.mkdtempSync(path.join(os.tmpdir(), 'techdocs-out-')),
);

function fail(msg) {
  console.error(`backstage-generate: FAIL ${msg}`);
  process.exitCode = 1;
}

function req(name) {
  return require(require.resolve(name, { paths: [repoRoot] }));
}

// Same walk as the generator's validateInputDirectory, but it lists every offender.
function outsideSymlinks(root) {
  const realRoot = fs.realpathSync(root);
  const found = [];
  for (const entry of fs.readdirSync(root, {
    recursive: true,
    withFileTypes: true,
  })) {
    if (!entry.isSymbolicLink()) continue;
    const p = path.join(entry.parentPath ?? entry.path, entry.name);
    let target;
    try {
      target = fs.realpathSync(p);
    } catch {
      continue; // dangling: resolves to nothing outside
    }
    if (target !== realRoot && !target.startsWith(realRoot + path.sep)) {
      found.push(`${path.relative(root, p)} -> ${target}`);
    }
  }
  return found;
}

async function main() {
  const { TechdocsGenerator } = req('@backstage/plugin-techdocs-node');
  const { ConfigReader } = req('@backstage/config');
  const { ScmIntegrations } = req('@backstage/integration');

  const warnings = [];
  const logger = {
    error: m => warnings.push(`error: ${m}`),
    warn: m => warnings.push(`warn: ${m}`),
    info: () => {},
    debug: () => {},
    child() {
      return logger;
    },
  };
  const config = new ConfigReader({
    techdocs: { generator: { runIn: 'local' } },
  });
  const generator = TechdocsGenerator.fromConfig(config, {
    logger,
    scmIntegrations: ScmIntegrations.fromConfig(config),
  });

  // A copy of what the generator reads, so the repository is never touched here.
  const inputDir = fs.mkdtempSync(path.join(os.tmpdir(), 'techdocs-in-'));
  const original = fs.readFileSync(path.join(repoRoot, 'mkdocs.yml'), 'utf8');
  fs.writeFileSync(path.join(inputDir, 'mkdocs.yml'), original);
  fs.cpSync(path.join(repoRoot, 'docs'), path.join(inputDir, 'docs'), {
    recursive: true,
  });
  fs.mkdirSync(outDir, { recursive: true });

  const log = new PassThrough();
  const chunks = [];
  log.on('data', c => chunks.push(c));
  const started = Date.now();
  try {
    await generator.run({
      inputDir,
      outputDir: outDir,
      parsedLocationAnnotation: { type: 'dir', target: inputDir },
      logger,
      logStream: log,
      etag: 'backstage-generate',
    });
  } catch (e) {
    fail(
      `TechdocsGenerator failed: ${e}\n${Buffer.concat(chunks)
        .toString()
        .slice(-4000)}`,
    );
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);

  const after = fs.readFileSync(path.join(inputDir, 'mkdocs.yml'), 'utf8');
  if (after !== original) {
    fail(
      'the generator rewrote mkdocs.yml (for `dir:.` it does that to the repository file on every build). ' +
        'Keep mkdocs.yml in the exact form below (no comments; js-yaml layout):\n' +
        after,
    );
  }
  const removed = warnings.filter(w =>
    /Removed|DANGEROUS|unsupported/i.test(w),
  );
  if (removed.length)
    fail(
      `the generator dropped parts of mkdocs.yml:\n  ${removed.join('\n  ')}`,
    );
  if (!fs.existsSync(path.join(outDir, 'techdocs_metadata.json')))
    fail('no techdocs_metadata.json in the output');

  const links = outsideSymlinks(repoRoot);
  if (links.length) {
    fail(
      `${links.length} symlink(s) under the repository point outside it; the portal's TechDocs generator ` +
        `refuses to build the root entity's docs (dir:.) while they exist. Create venvs with ` +
        `\`python3 -m venv --copies\` or outside the repository:\n  ${links
          .slice(0, 20)
          .join('\n  ')}`,
    );
  }
  fs.rmSync(inputDir, { recursive: true, force: true });
  console.log(
    `backstage-generate: ${
      process.exitCode ? 'FAILED' : 'ok'
    }: TechdocsGenerator (runIn: local) built ${outDir} in ${seconds}s; ` +
      `mkdocs.yml ${after === original ? 'unchanged' : 'CHANGED'}; ${
        removed.length
      } removed entries; ${links.length} outside symlinks`,
  );
}

main().catch(e => {
  fail(e.stack || String(e));
});
