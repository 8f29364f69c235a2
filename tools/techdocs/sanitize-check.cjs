#!/usr/bin/env node
/*
 * Passes every built page that holds a diagram through DOMPurify configured exactly
 * like the TechDocs reader (plugins/techdocs: reader/transformers/html/transformer),
 * then checks that each diagram SVG survived with all its shapes and labels.
 *
 * Usage: node tools/techdocs/sanitize-check.cjs SITE_DIR
 * Needs the monorepo's node_modules (dompurify, jsdom come with @backstage/plugin-techdocs).
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const repoRoot = path.resolve(__dirname, '..', '..');
const req = name => require(require.resolve(name, { paths: [repoRoot] }));

// The options of useSanitizerTransformer() in @backstage/plugin-techdocs.
const TECHDOCS_PURIFY_OPTIONS = {
  ADD_TAGS: ['link', 'meta'],
  FORBID_TAGS: ['style'],
  ADD_ATTR: ['http-equiv', 'content', 'dominant-baseline'],
  WHOLE_DOCUMENT: true,
  RETURN_DOM: true,
};

function diagrams(root) {
  return [...root.querySelectorAll('svg')]
    .map(svg => {
      const title = svg.querySelector('g#graph0 > title');
      if (!title) return undefined;
      const count = sel => svg.querySelectorAll(sel).length;
      return {
        id: title.textContent,
        nodes: count('g.node'),
        edges: count('g.edge'),
        texts: count('text'),
        shapes: count('path, polygon, ellipse, polyline'),
        viewBox: svg.getAttribute('viewBox'),
        labels: [...svg.querySelectorAll('text')]
          .map(t => t.textContent)
          .join('|'),
      };
    })
    .filter(Boolean);
}

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.name.endsWith('.html') ? [p] : [];
  });
}

function main() {
  const site = process.argv[2];
  if (!site || !fs.existsSync(site)) {
    console.error('usage: sanitize-check.cjs SITE_DIR');
    process.exit(2);
  }
  const { JSDOM } = req('jsdom');
  const createDOMPurify = req('dompurify');
  let checked = 0;
  const problems = [];
  for (const file of walk(site)) {
    const html = fs.readFileSync(file, 'utf8');
    if (!html.includes('id="graph0"')) continue;
    const before = diagrams(new JSDOM(html).window.document);
    const window = new JSDOM('').window;
    const purify = createDOMPurify(window);
    const cleaned = purify.sanitize(html, TECHDOCS_PURIFY_OPTIONS);
    const after = diagrams(cleaned);
    const page = path.relative(site, file);
    for (const b of before) {
      const a = after.find(x => x.id === b.id);
      checked++;
      if (!a) {
        problems.push(`${page}: diagram ${b.id} was removed by the sanitizer`);
        continue;
      }
      for (const key of [
        'nodes',
        'edges',
        'texts',
        'shapes',
        'viewBox',
        'labels',
      ]) {
        if (a[key] !== b[key]) {
          problems.push(
            `${page}: diagram ${
              b.id
            } changed by the sanitizer: ${key} ${JSON.stringify(
              b[key],
            )} -> ${JSON.stringify(a[key])}`,
          );
        }
      }
    }
    if (cleaned.querySelector('script[src^="http"]'))
      problems.push(`${page}: a remote script survived`);
  }
  for (const p of problems) console.error(`sanitize-check: FAIL ${p}`);
  if (checked === 0) {
    console.error('sanitize-check: FAIL no diagram found in the site');
    process.exit(1);
  }
  console.log(
    problems.length
      ? `sanitize-check: FAILED: ${problems.length} problems in ${checked} diagrams`
      : `sanitize-check: ok: ${checked} diagrams kept every node, edge, label and shape through the TechDocs DOMPurify configuration`,
  );
  process.exit(problems.length ? 1 : 0);
}

main();
