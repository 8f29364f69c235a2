/*
 * Template benchmark: the time of a dry-run through the scaffolder (HTTP endpoint,
 * parameter validation, task runner, every step) against a plain render of the same
 * skeleton parts (only the golden-path:fetch:skeleton action, called directly with the
 * inputs the scaffolder rendered for it), both
 * measured in this run. The ratio is the scaffolder's overhead.
 *
 *   yarn --cwd tests/templates bench        (BENCH_ITERATIONS=5 by default)
 *
 * It runs under jest only because Backstage's test backend needs jest's mocks.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createBackendModule } from '@backstage/backend-plugin-api';
import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { ScmIntegrations } from '@backstage/integration';
import { createFetchTemplateAction } from '@backstage/plugin-scaffolder-backend';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import { createFetchSkeletonAction } from '@golden-path/plugin-scaffolder-backend-module-golden-path';
import {
  discoverTemplateCases,
  REPO_ROOT,
  startScaffolder,
} from './scaffolderDryRun';

function median(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

jest.setTimeout(600_000);

it('prints the scaffolder dry-run time against a plain render', async () => {
  const iterations = Number(process.env.BENCH_ITERATIONS ?? 5);
  const cases = discoverTemplateCases().filter(c => c.example === 'typical');
  const action = createFetchSkeletonAction({
    skeletonsDir: path.join(REPO_ROOT, 'fastapi-skeletons'),
    fetchTemplate: createFetchTemplateAction({
      reader: mockServices.urlReader.mock(),
      integrations: ScmIntegrations.fromConfig(new ConfigReader({})),
    }),
  });
  // The plain render replays the inputs the scaffolder rendered for the action, so both
  // sides write exactly the same files.
  const recordedInputs: any[] = [];
  const scaffolder = await startScaffolder({
    goldenPathModule: createBackendModule({
      pluginId: 'scaffolder',
      moduleId: 'golden-path',
      register(reg) {
        reg.registerInit({
          deps: { scaffolder: scaffolderActionsExtensionPoint },
          async init({ scaffolder: actions }) {
            actions.addActions({
              ...action,
              handler: async ctx => {
                recordedInputs.push(ctx.input);
                return action.handler(ctx);
              },
            });
          },
        });
      },
    }),
  });

  const rows: string[][] = [];
  for (const testCase of cases) {
    recordedInputs.length = 0;
    const first = await scaffolder.dryRun(
      testCase.templateEntity,
      testCase.values,
    );
    if (first.status !== 200) {
      throw new Error(
        `${testCase.template}: dry-run failed with ${first.status}`,
      );
    }
    const renderInputs = [...recordedInputs];
    const plain: number[] = [];
    const dry: number[] = [];
    // One warm-up of each, then alternate so both see the same machine state.
    for (let i = -1; i < iterations; i++) {
      const workspacePath = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
      let start = performance.now();
      for (const input of renderInputs) {
        await action.handler(createMockActionContext({ workspacePath, input }));
      }
      const plainMs = performance.now() - start;
      fs.rmSync(workspacePath, { recursive: true, force: true });

      start = performance.now();
      const result = await scaffolder.dryRun(
        testCase.templateEntity,
        testCase.values,
      );
      const dryMs = performance.now() - start;
      if (result.status !== 200) {
        throw new Error(
          `${testCase.template}: dry-run failed with ${result.status}`,
        );
      }
      if (i >= 0) {
        plain.push(plainMs);
        dry.push(dryMs);
      }
    }
    const p = median(plain);
    const d = median(dry);
    rows.push([
      testCase.template,
      p.toFixed(1),
      d.toFixed(1),
      (d / p).toFixed(1),
    ]);
  }
  await scaffolder.stop();

  const header = [
    'template',
    'plain render ms',
    'scaffolder dry-run ms',
    'ratio',
  ];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map(r => r[i].length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ');
  process.stdout.write(
    [
      `\nmedians of ${iterations} runs each, measured in this run`,
      line(header),
      ...rows.map(line),
      '',
    ].join('\n'),
  );
  expect(rows).toHaveLength(cases.length);
});
