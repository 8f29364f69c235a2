/*
 * Start/stop of the local control plane for Jest's globalSetup/globalTeardown.
 * If KUBECONFIG is set (kind, k3d, minikube, a cloud cluster) nothing is started.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
const clusterScript = path.join(repoRoot, 'platform', 'cluster.sh');
const stateDir = process.env.PLATFORM_STATE ?? '/tmp/golden-path-platform';
const marker = path.join(stateDir, '.started-by-jest');

function isRunning(): boolean {
  try {
    execFileSync('bash', [clusterScript, 'status'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function startCluster(): void {
  if (process.env.KUBECONFIG) {
    // eslint-disable-next-line no-console
    console.log(
      `\n[kube-integration] using existing cluster from KUBECONFIG=${process.env.KUBECONFIG}`,
    );
    return;
  }
  const alreadyRunning = isRunning();
  execFileSync('bash', [clusterScript, 'start'], { stdio: 'inherit' });
  if (!alreadyRunning) {
    fs.writeFileSync(marker, String(process.pid));
  }
  // Workers are spawned after globalSetup and inherit this environment.
  process.env.KUBECONFIG = path.join(stateDir, 'kubeconfig');
  process.env.KUBE_INTEGRATION_LOCAL_CLUSTER = '1';
}

export function stopCluster(): void {
  if (!fs.existsSync(marker)) {
    return; // external cluster, or one that was running before the tests: leave it
  }
  if (process.env.KUBE_KEEP_CLUSTER === '1') {
    // eslint-disable-next-line no-console
    console.log(
      '[kube-integration] KUBE_KEEP_CLUSTER=1: leaving the cluster running',
    );
    return;
  }
  execFileSync('bash', [clusterScript, 'stop'], { stdio: 'inherit' });
}
