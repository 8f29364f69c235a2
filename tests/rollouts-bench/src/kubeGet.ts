import { KubeConfig } from '@kubernetes/client-node';
import http from 'node:http';
import https from 'node:https';

/** A GET as raw JSON text, with the KubeConfig's credentials. */
export async function getAsJson(kc: KubeConfig, path: string): Promise<string> {
  const server = kc.getCurrentCluster()!.server;
  const options: https.RequestOptions = {
    headers: { Accept: 'application/json' },
  };
  await kc.applyToHTTPSOptions(options);
  const url = new URL(path, server);
  const transport = url.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    transport
      .get(url, options, res => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 0) >= 300) {
            reject(
              new Error(
                `HTTP ${res.statusCode} from GET ${path}: ${text.slice(
                  0,
                  200,
                )}`,
              ),
            );
          } else {
            resolve(text);
          }
        });
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/**
 * Every item of a collection, listed page by page (`limit`/`continue`), each
 * passed to `onItem` as it arrives.
 */
export async function forEachListed(
  kc: KubeConfig,
  path: string,
  onItem: (item: any) => void,
  query: Record<string, string> = {},
): Promise<void> {
  let continueToken: string | undefined;
  do {
    const params = new URLSearchParams({ ...query, limit: '1000' });
    if (continueToken) params.set('continue', continueToken);
    const page = JSON.parse(await getAsJson(kc, `${path}?${params}`));
    for (const item of page.items ?? []) onItem(item);
    continueToken = page.metadata?.continue || undefined;
  } while (continueToken);
}

/**
 * A KubeConfig that counts the requests made with it: every request of
 * `@kubernetes/client-node` (watches) and of the plugin's own HTTP client
 * applies the config's credentials exactly once.
 */
export class CountingKubeConfig extends KubeConfig {
  requests = 0;

  static from(kc: KubeConfig): CountingKubeConfig {
    const counting = new CountingKubeConfig();
    counting.loadFromString(kc.exportConfig());
    return counting;
  }

  async applyToHTTPSOptions(opts: https.RequestOptions | any): Promise<void> {
    this.requests += 1;
    return super.applyToHTTPSOptions(opts);
  }

  async applyToFetchOptions(opts: any): Promise<any> {
    this.requests += 1;
    return super.applyToFetchOptions(opts);
  }
}

/**
 * What Backstage's Kubernetes plugin asks the API server for one entity
 * (its KubernetesFanOutHandler's DEFAULT_OBJECTS): one cluster-wide list per
 * kind with the entity's label selector, all at once.
 */
export const KUBERNETES_PLUGIN_LISTS = [
  '/api/v1/pods',
  '/api/v1/services',
  '/api/v1/configmaps',
  '/api/v1/limitranges',
  '/api/v1/resourcequotas',
  '/apis/apps/v1/deployments',
  '/apis/apps/v1/replicasets',
  '/apis/autoscaling/v2/horizontalpodautoscalers',
  '/apis/batch/v1/jobs',
  '/apis/batch/v1/cronjobs',
  '/apis/networking.k8s.io/v1/ingresses',
  '/apis/apps/v1/statefulsets',
  '/apis/apps/v1/daemonsets',
];

/** One Kubernetes-tab view of an entity: its plugin's lists, parsed. */
export async function kubernetesPluginView(
  kc: KubeConfig,
  labelSelector: string,
): Promise<{ items: any[] }[]> {
  const query = `?labelSelector=${encodeURIComponent(labelSelector)}`;
  return Promise.all(
    KUBERNETES_PLUGIN_LISTS.map(async p =>
      JSON.parse(await getAsJson(kc, p + query)),
    ),
  );
}
