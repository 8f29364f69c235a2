/*
 * An in-process stand-in for the API server, serving the scale workload as a
 * real one lists it (apiServerObjects.ts), page by page. Items are made when
 * a page is asked for (the full size would take gigabytes held as objects),
 * from the Deployment's index alone: uids derive from names, so owner
 * references match across kinds and pages.
 */
import { KubeConfig } from '@kubernetes/client-node';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import {
  listedDeployment,
  listedPods,
  listedReplicaSets,
  ResourceVersions,
  uidOf,
} from './apiServerObjects';
import { ScaleApp, ScaleSize } from './scaleWorkload';

/** The run prefix of the offline benchmarks, as long as a cluster run's (`bench-scale-<6 hex>`). */
export const OFFLINE_RUN = 'bench-scale-0ff1ce';

export const SCALE_COLLECTIONS = {
  deployments: '/apis/apps/v1/deployments',
  replicasets: '/apis/apps/v1/replicasets',
  pods: '/api/v1/pods',
} as const;
export type ScaleKind = keyof typeof SCALE_COLLECTIONS;

/** Fake nodes of the KWOK benchmark: 1,000 pods each. */
const nodeOf = (app: ScaleApp, size: ScaleSize) =>
  `${app.run}-node-${Math.floor((app.index * size.podsPerDeployment) / 1000)}`;

/** One kind's collection: how many objects each Deployment brings, and those objects. */
interface Collection {
  perApp: number;
  objectsOf(app: ScaleApp): object[];
}

function scaleCollections(
  size: ScaleSize,
  versions: ResourceVersions,
): Record<ScaleKind, Collection> {
  const deploymentUid = (app: ScaleApp) =>
    uidOf(`d/${app.namespace}/${app.name}`);
  return {
    deployments: {
      perApp: 1,
      objectsOf: app => [listedDeployment(app, size, versions)],
    },
    replicasets: {
      perApp: size.history + 1,
      objectsOf: app =>
        listedReplicaSets(app, size, deploymentUid(app), versions),
    },
    pods: {
      perApp: size.podsPerDeployment,
      objectsOf: app => {
        const current = listedReplicaSets(
          app,
          size,
          deploymentUid(app),
          new ResourceVersions(),
        )[size.history];
        return listedPods(
          app,
          size,
          { name: current.metadata!.name!, uid: current.metadata!.uid! },
          nodeOf(app, size),
          versions,
        );
      },
    },
  };
}

/** The items from `offset` on, at most `limit`, of one collection. */
function page(
  collection: Collection,
  apps: ScaleApp[],
  offset: number,
  limit: number,
) {
  const items: object[] = [];
  const first = Math.floor(offset / collection.perApp);
  for (let a = first; a < apps.length && items.length < limit; a += 1) {
    const objects = collection.objectsOf(apps[a]);
    const from = a === first ? offset - a * collection.perApp : 0;
    items.push(...objects.slice(from, from + limit - items.length));
  }
  return items;
}

/**
 * Serves `kinds` of the workload (other collections are empty), page by page
 * when asked (`limit`/`continue`); watches stay open and quiet.
 */
export async function serveScaleWorkload(
  apps: ScaleApp[],
  size: ScaleSize,
  kinds: readonly ScaleKind[] = Object.keys(SCALE_COLLECTIONS) as ScaleKind[],
) {
  const versions = new ResourceVersions();
  const collections = scaleCollections(size, versions);
  const served = new Map<string, Collection>(
    kinds.map(kind => [SCALE_COLLECTIONS[kind], collections[kind]]),
  );
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    res.writeHead(200, { 'Content-Type': 'application/json' });
    if (url.searchParams.get('watch') === 'true') {
      res.flushHeaders();
      return;
    }
    const collection = served.get(url.pathname);
    const total = collection ? collection.perApp * apps.length : 0;
    const limit = Number(url.searchParams.get('limit') || total);
    const offset = Number(url.searchParams.get('continue') || 0);
    const next = offset + limit;
    res.end(
      JSON.stringify({
        kind: 'List',
        metadata: {
          resourceVersion: versions.latest,
          ...(next < total && { continue: String(next) }),
        },
        items: collection ? page(collection, apps, offset, limit) : [],
      }),
    );
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [
      {
        name: 'offline',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        // client-node refuses plain HTTP otherwise.
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'bench', token: 'offline' }],
    contexts: [{ name: 'offline', cluster: 'offline', user: 'bench' }],
    currentContext: 'offline',
  });
  return {
    kubeConfig,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}
