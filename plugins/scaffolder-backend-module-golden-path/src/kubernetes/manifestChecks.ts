import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { CONFIG_KEY } from './settings';

/** One finding of tools/manifest-checks (`check.sh --json`). @public */
export interface PolicyFinding {
  kind: string;
  name: string;
  rule: string;
  message: string;
  fix?: string;
}

/** Runs the project's schema and policy checks over a rendered YAML stream. @public */
export type RunManifestChecks = (options: {
  text: string;
  /** catalog-info.yaml: objects must carry its Component's kubernetes-id and namespace. */
  catalogInfo?: string;
  signal?: AbortSignal;
}) => Promise<PolicyFinding[]>;

/** `Deployment/web: probes: ... (fix: ...)`. */
export function describeFinding(finding: PolicyFinding): string {
  return `${finding.kind}/${finding.name}: ${finding.rule}: ${finding.message}${
    finding.fix ? ` (fix: ${finding.fix})` : ''
  }`;
}

/**
 * Calls tools/manifest-checks/check.sh with the rendered manifests on stdin, so the checks
 * see exactly what is applied (kustomize already ran). Exit 0 and 1 are answers (1: there
 * are findings); anything else is a failure of the tool, reported with its stderr.
 */
export function manifestChecksRunner(script: string): RunManifestChecks {
  return async ({ text, catalogInfo, signal }) => {
    if (!(await fs.stat(script).catch(() => undefined))) {
      throw new Error(
        `The project's manifest checks are not at ${script}: set ${CONFIG_KEY}.manifestChecksScript to tools/manifest-checks/check.sh of the portal's repository, or give the validate step policyChecks: false.`,
      );
    }
    const args = [
      script,
      '--json',
      ...(catalogInfo ? ['--catalog-info', catalogInfo] : []),
      '-',
    ];
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((resolve, reject) => {
      const child = spawn('bash', args, { signal, stdio: 'pipe' });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.on('error', reject);
      child.on('close', exitCode =>
        resolve({
          code: exitCode,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        }),
      );
      child.stdin.end(text);
    });
    if (code !== 0 && code !== 1) {
      throw new Error(
        `The manifest checks (${script}) failed to run (exit ${code}): ${
          stderr.trim().split('\n').slice(-5).join(' ') || 'no output'
        }`,
      );
    }
    let report: { findings?: PolicyFinding[] };
    try {
      report = JSON.parse(stdout);
    } catch {
      throw new Error(
        `The manifest checks (${script}) printed no JSON report: ${stderr.trim()}`,
      );
    }
    return report.findings ?? [];
  };
}
