import { spawn } from 'node:child_process';
import path from 'node:path';
import { Config } from '@backstage/config';

/** Where the config of golden-path:local:build-images lives. */
export const LOCAL_IMAGES_CONFIG_KEY = 'goldenPath.localImages';

/** What golden-path:local:build-images reads from app-config. @public */
export interface LocalImagesSettings {
  /**
   * The local cluster's kubeconfig (platform/cluster.sh's), or why there is none: the
   * images are built on the portal's own machine and imported into that cluster's
   * nodes, which only makes sense when the portal's cluster is that one.
   */
  cluster: { kubeconfig: string } | { missing: string };
  /** platform/local-repo.sh of the portal's repository. */
  script: string;
}

/** Reads `goldenPath.localImages`; both keys optional. */
export function readLocalImagesSettings(config: Config): LocalImagesSettings {
  const k = (key: string) => `${LOCAL_IMAGES_CONFIG_KEY}.${key}`;
  // An unset `${VARIABLE:-}` reads as an empty string: it counts as not set.
  const kubeconfig = config.getOptional<string>(k('kubeconfig')) || undefined;
  return {
    cluster: kubeconfig
      ? { kubeconfig }
      : {
          missing: `${k(
            'kubeconfig',
          )} is not set: this portal has no local cluster to build images for. make start sets it (GOLDEN_PATH_LOCAL_KUBECONFIG) when it runs the portal on the local cluster (its default; not with LOCAL_CLUSTER=0 or your own K8S_CLUSTER_URL). Any other cluster pulls its images from a registry: publish them with CI and deploy k8s/ instead of overlays/local.`,
        },
    script: path.resolve(
      config.getOptional<string>(k('script')) || '../../platform/local-repo.sh',
    ),
  };
}

/** Builds a repository's images and imports them into the local cluster's nodes. @public */
export type BuildLocalImages = (options: {
  repoDir: string;
  kubeconfig: string;
  /** Each line the script logs (what it builds, imports), for the task log. */
  onLine: (line: string) => void;
  signal?: AbortSignal;
}) => Promise<{ images: string[] }>;

/**
 * `platform/local-repo.sh images <repo>`: builds every localhost/ image the repository's
 * overlays/local names (buildah, no registry) and imports it into every real node of the
 * local cluster; prints the references. It refuses any KUBECONFIG but the local
 * cluster's itself. Cancelling the task stops the whole process group.
 */
export function localImagesBuilder(script: string): BuildLocalImages {
  return ({ repoDir, kubeconfig, onLine, signal }) =>
    new Promise((resolve, reject) => {
      const child = spawn('bash', [script, 'images', repoDir], {
        env: { ...process.env, KUBECONFIG: kubeconfig },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      const out: Buffer[] = [];
      const tail: string[] = [];
      let partial = '';
      const abort = () => {
        if (child.pid) {
          try {
            process.kill(-child.pid, 'SIGTERM');
          } catch {
            // already gone
          }
        }
      };
      signal?.addEventListener('abort', abort, { once: true });
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => {
        const lines = (partial + c.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines.filter(l => l.trim())) {
          tail.push(line);
          if (tail.length > 10) tail.shift();
          onLine(line);
        }
      });
      child.on('error', reject);
      child.on('close', code => {
        signal?.removeEventListener('abort', abort);
        if (partial.trim()) {
          tail.push(partial);
          onLine(partial);
        }
        if (signal?.aborted) {
          reject(
            new Error('The task was cancelled while the images were built'),
          );
        } else if (code !== 0) {
          reject(
            new Error(
              `${script} images failed (exit ${code}): ${
                tail.join(' | ') || 'no output'
              }`,
            ),
          );
        } else {
          resolve({
            images: Buffer.concat(out)
              .toString('utf8')
              .split('\n')
              .map(l => l.trim())
              .filter(Boolean),
          });
        }
      });
    });
}
