import { mockServices } from '@backstage/backend-test-utils';
import { KubeConfig } from '@kubernetes/client-node';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { InformerCluster } from './InformerCluster';
import { ClusterChange } from './types';

/** Answers as the API server fails a request: a `Status` with the code. */
function failWith(
  res: http.ServerResponse,
  code: number,
  reason: string,
  message: string,
) {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', code, reason, message }));
}

/**
 * A tiny stand-in for the API server: answers lists of every kind (pods from
 * `pods`, everything else empty) and keeps watch streams open. Like the real
 * one it keeps a window of recent events: a watch that resumes from a
 * resourceVersion gets the events after it replayed, or 410 Gone when that
 * version was compacted away.
 */
class FakeApiServer {
  pods = new Map<string, any>();
  resourceVersion = 100;
  compactedRv = 0;
  /** While muted, events are recorded but not sent (a stalled connection). */
  muted = false;
  readonly history: { rv: number; event: object }[] = [];
  readonly requests: {
    path: string;
    watch: boolean;
    rv?: string;
    auth?: string;
    limit?: string;
    continue?: string;
  }[] = [];
  readonly podWatches = new Set<http.ServerResponse>();
  /** The next list continuation is answered 410 Expired, as after etcd compaction. */
  expireNextContinue = false;
  /** Paths answered with 403, as RBAC does for a kind the identity may not list. */
  readonly forbidden = new Set<string>();
  /** Paths answered with 404, as for a CRD that is not installed. */
  readonly notServed = new Set<string>();
  private server?: http.Server;
  port = 0;

  async listen(port = 0) {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>(r => this.server!.listen(port, '127.0.0.1', r));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  async close() {
    for (const w of this.podWatches) w.destroy();
    this.podWatches.clear();
    this.server?.closeAllConnections();
    await new Promise<void>(r =>
      this.server ? this.server.close(() => r()) : r(),
    );
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url!, 'http://x');
    const watch = url.searchParams.get('watch') === 'true';
    const rv = url.searchParams.get('resourceVersion') ?? undefined;
    this.requests.push({
      path: url.pathname,
      watch,
      rv,
      auth: req.headers.authorization,
      limit: url.searchParams.get('limit') ?? undefined,
      continue: url.searchParams.get('continue') ?? undefined,
    });
    if (this.forbidden.has(url.pathname)) {
      failWith(
        res,
        403,
        'Forbidden',
        `events is forbidden: User "system:serviceaccount:golden-path-portal:portal" cannot list resource "${url.pathname}" at the cluster scope`,
      );
      return;
    }
    if (this.notServed.has(url.pathname)) {
      failWith(
        res,
        404,
        'NotFound',
        'the server could not find the requested resource',
      );
      return;
    }
    const token = url.searchParams.get('continue');
    if (!watch && token && this.expireNextContinue) {
      this.expireNextContinue = false;
      failWith(
        res,
        410,
        'Expired',
        'The provided continue parameter is too old to display a consistent list result.',
      );
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    if (!watch) {
      const all =
        url.pathname === '/api/v1/pods' ? [...this.pods.values()] : [];
      // Pages of `limit`; the token names the snapshot and the next offset.
      const limit = Number(url.searchParams.get('limit') ?? all.length);
      const [snapshotRv, offset] = token
        ? token.split(':').map(Number)
        : [this.resourceVersion, 0];
      const next = offset + limit;
      res.end(
        JSON.stringify({
          kind: 'List',
          metadata: {
            resourceVersion: String(snapshotRv),
            ...(next < all.length && { continue: `${snapshotRv}:${next}` }),
          },
          items: all.slice(offset, next),
        }),
      );
      return;
    }
    res.flushHeaders();
    if (url.pathname !== '/api/v1/pods') return;
    if (rv && Number(rv) < this.compactedRv) {
      res.end(
        `${JSON.stringify({
          type: 'ERROR',
          object: {
            kind: 'Status',
            code: 410,
            reason: 'Expired',
            message: `too old resource version: ${rv} (${this.compactedRv})`,
          },
        })}\n`,
      );
      return;
    }
    for (const h of this.history) {
      if (h.rv > Number(rv ?? 0)) res.write(`${JSON.stringify(h.event)}\n`);
    }
    this.podWatches.add(res);
    res.on('close', () => this.podWatches.delete(res));
  }

  private record(type: string, object: any) {
    const event = { type, object };
    this.history.push({ rv: Number(object.metadata.resourceVersion), event });
    if (!this.muted) {
      for (const w of this.podWatches) w.write(`${JSON.stringify(event)}\n`);
    }
  }

  upsert(name: string, labels: Record<string, string> = { app: 'demo' }) {
    const type = this.pods.has(name) ? 'MODIFIED' : 'ADDED';
    const p = {
      metadata: {
        name,
        namespace: 'fastapi-demo',
        uid: `uid-${name}`,
        resourceVersion: String(++this.resourceVersion),
        labels,
        managedFields: [{ manager: 'kube-controller-manager' }],
      },
      spec: {
        containers: [
          { name: 'api', image: 'demo:1', env: [{ name: 'A', value: 'b' }] },
        ],
        volumes: [{ name: 'tmp', emptyDir: {} }],
        tolerations: [{ key: 'node.kubernetes.io/not-ready' }],
      },
      status: { phase: 'Running', hostIP: '10.0.0.1' },
    };
    this.pods.set(name, p);
    this.record(type, p);
  }

  remove(name: string) {
    const p = { ...this.pods.get(name) };
    p.metadata = {
      ...p.metadata,
      resourceVersion: String(++this.resourceVersion),
    };
    this.pods.delete(name);
    this.record('DELETED', p);
  }

  /** Forgets the event history, as etcd compaction does. */
  compact() {
    this.compactedRv = this.resourceVersion;
    this.history.length = 0;
  }

  send(event: object) {
    for (const w of this.podWatches) w.write(`${JSON.stringify(event)}\n`);
  }

  cutWatches() {
    for (const w of this.podWatches) w.end();
    this.podWatches.clear();
  }

  podRequests() {
    return this.requests.filter(r => r.path === '/api/v1/pods');
  }
}

async function eventually(check: () => void, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise(r => setTimeout(r, 20));
    }
  }
}

describe('InformerCluster', () => {
  let api: FakeApiServer;
  let cluster: InformerCluster;

  function makeCluster(listPageSize?: number) {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: 'fake',
          server: `http://127.0.0.1:${api.port}`,
          skipTLSVerify: true,
        },
      ],
      users: [{ name: 'u', token: 'sa-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'u' }],
      currentContext: 'fake',
    });
    return new InformerCluster({
      name: 'fake',
      kubeConfig: kc,
      write: { mode: 'disabled', reason: 'read-only test' },
      logger: mockServices.logger.mock(),
      errorGraceMs: 200,
      minBackoffMs: 50,
      maxBackoffMs: 200,
      notServedRetryMs: 600,
      requestTimeoutMs: 2000,
      listPageSize,
    });
  }

  beforeEach(async () => {
    api = new FakeApiServer();
    api.upsert('demo-api-blue-1');
    api.upsert('demo-api-blue-2');
    await api.listen();
    cluster = makeCluster();
  });

  afterEach(async () => {
    await cluster.stop();
    await api.close();
  });

  const names = () =>
    cluster
      .list('pods')
      .map(p => p.metadata!.name)
      .sort();

  it('lists every kind once, then serves reads and changes from memory', async () => {
    expect(cluster.health().state).toBe('syncing');
    const changes: ClusterChange[] = [];
    cluster.subscribe(c => changes.push(c));
    await cluster.start();
    await eventually(() =>
      expect(cluster.health()).toEqual({ state: 'ok', unavailable: [] }),
    );
    expect(names()).toEqual(['demo-api-blue-1', 'demo-api-blue-2']);
    // Only what the views read is cached (cache/projections.ts).
    const [cached] = cluster.list('pods');
    expect(cached).toEqual({
      metadata: {
        name: 'demo-api-blue-1',
        namespace: 'fastapi-demo',
        uid: 'uid-demo-api-blue-1',
        resourceVersion: expect.any(String),
        labels: { app: 'demo' },
      },
      status: { phase: 'Running' },
    });
    // every request carries the service account token
    expect(new Set(api.requests.map(r => r.auth))).toEqual(
      new Set(['Bearer sa-token']),
    );
    const lists = api.requests
      .filter(r => !r.watch)
      .map(r => r.path)
      .sort();
    expect(lists).toEqual(
      [
        '/api/v1/events',
        '/api/v1/limitranges',
        '/api/v1/pods',
        '/api/v1/resourcequotas',
        '/api/v1/services',
        '/apis/apps/v1/deployments',
        '/apis/apps/v1/replicasets',
        '/apis/autoscaling/v2/horizontalpodautoscalers',
        '/apis/discovery.k8s.io/v1/endpointslices',
        '/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations',
      ].sort(),
    );

    await eventually(() => expect(api.podWatches.size).toBe(1));
    const before = api.requests.length;
    api.upsert('demo-api-green-1');
    await eventually(() =>
      expect(names()).toEqual([
        'demo-api-blue-1',
        'demo-api-blue-2',
        'demo-api-green-1',
      ]),
    );
    expect(
      changes
        .filter(c => c.kind === 'pods')
        .map(c => [c.verb, c.object.metadata?.name]),
    ).toEqual([
      ['add', 'demo-api-blue-1'],
      ['add', 'demo-api-blue-2'],
      ['add', 'demo-api-green-1'],
    ]);
    // Reading costs no request
    cluster.list('pods');
    cluster.list('deployments');
    expect(api.requests.length).toBe(before);
  });

  it('resumes a cut watch from its resourceVersion without listing again', async () => {
    await cluster.start();
    await eventually(() => expect(api.podWatches.size).toBe(1));
    api.upsert('demo-api-green-1');
    await eventually(() => expect(names()).toContain('demo-api-green-1'));
    const lastRv = api.pods.get('demo-api-green-1').metadata.resourceVersion;
    const listsBefore = api.podRequests().filter(r => !r.watch).length;

    const watchesBefore = api.podRequests().filter(r => r.watch).length;
    api.cutWatches();
    // Happens while the client reconnects: replayed from the server's window
    api.upsert('demo-api-green-2');
    await eventually(() =>
      expect(api.podRequests().filter(r => r.watch).length).toBe(
        watchesBefore + 1,
      ),
    );
    const rewatch = api
      .podRequests()
      .filter(r => r.watch)
      .pop()!;
    expect(rewatch.rv).toBe(lastRv);
    expect(api.podRequests().filter(r => !r.watch).length).toBe(listsBefore);

    api.remove('demo-api-blue-1');
    await eventually(() =>
      expect(names()).toEqual([
        'demo-api-blue-2',
        'demo-api-green-1',
        'demo-api-green-2',
      ]),
    );
  });

  it('lists again after 410 Gone and drops objects deleted meanwhile', async () => {
    await cluster.start();
    await eventually(() => expect(api.podWatches.size).toBe(1));
    // Changes the watch never sees, then the server gives up on the watch
    api.muted = true;
    api.remove('demo-api-blue-1');
    api.upsert('demo-api-green-9');
    api.compact();
    api.send({
      type: 'ERROR',
      object: {
        kind: 'Status',
        code: 410,
        reason: 'Expired',
        message: 'too old resource version',
      },
    });
    api.cutWatches();
    await eventually(() =>
      expect(names()).toEqual(['demo-api-blue-2', 'demo-api-green-9']),
    );
    expect(api.podRequests().filter(r => !r.watch)).toHaveLength(2);
    expect(
      api
        .podRequests()
        .filter(r => r.watch)
        .pop()!.rv,
    ).toBe(String(api.resourceVersion));
  });

  it('reports the cluster as down while the API server is gone and recovers after', async () => {
    await cluster.start();
    await eventually(() => expect(cluster.health().state).toBe('ok'));
    const port = api.port;
    await api.close();
    await eventually(() => {
      const health = cluster.health();
      expect(health.state).toBe('error');
      expect(health.error).toMatch(
        /API server cannot be reached \(listing .*pods/,
      );
      // Every signed-in user sees this: no internal address in it.
      expect(health.error).not.toContain('127.0.0.1');
      expect(health.error).not.toContain(String(port));
      // The last known state stays, marked stale.
      expect(health.staleSince).toEqual(expect.any(Number));
    });
    expect(names()).toEqual(['demo-api-blue-1', 'demo-api-blue-2']);
    // Data changed while the server was away, and history was compacted:
    // resuming the watch gets 410 Gone and the informer lists again.
    api.remove('demo-api-blue-1');
    api.upsert('demo-api-green-1');
    api.compact();
    const listsBefore = api.podRequests().filter(r => !r.watch).length;
    await api.listen(port);
    await eventually(
      () => expect(cluster.health()).toEqual({ state: 'ok', unavailable: [] }),
      8000,
    );
    await eventually(
      () => expect(names()).toEqual(['demo-api-blue-2', 'demo-api-green-1']),
      8000,
    );
    expect(api.podRequests().filter(r => !r.watch).length).toBe(
      listsBefore + 1,
    );
  }, 20_000);

  it('reports a cluster that never answered as down right away', async () => {
    const port = api.port;
    await api.close();
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        { name: 'x', server: `http://127.0.0.1:${port}`, skipTLSVerify: true },
      ],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'x', user: 'u' }],
      currentContext: 'x',
    });
    const down = new InformerCluster({
      name: 'x',
      kubeConfig: kc,
      write: { mode: 'disabled', reason: 'read-only test' },
      logger: mockServices.logger.mock(),
      errorGraceMs: 60_000,
      minBackoffMs: 50,
    });
    await down.start();
    const health = down.health();
    expect(health.state).toBe('error');
    // Never synced: there is no last known state to show.
    expect(health.staleSince).toBeUndefined();
    expect(down.list('pods')).toEqual([]);
    await down.stop();
  });

  it('keeps working without an optional kind it may not read, and says which', async () => {
    api.forbidden.add('/api/v1/events');
    api.forbidden.add('/apis/autoscaling/v2/horizontalpodautoscalers');
    await cluster.start();
    await eventually(() =>
      expect(cluster.health()).toEqual({
        state: 'ok',
        unavailable: [
          { kind: 'horizontalpodautoscalers', state: 'forbidden' },
          { kind: 'events', state: 'forbidden' },
        ],
      }),
    );
    expect(names()).toEqual(['demo-api-blue-1', 'demo-api-blue-2']);
  });

  it('keeps working where Flux is not installed, asks again rarely, and picks it up once installed', async () => {
    const kustomizations =
      '/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations';
    const lists = () =>
      api.requests.filter(r => r.path === kustomizations && !r.watch).length;
    api.notServed.add(kustomizations);
    await cluster.start();
    await eventually(() =>
      expect(cluster.health()).toEqual({
        state: 'ok',
        unavailable: [{ kind: 'kustomizations', state: 'not-installed' }],
      }),
    );
    // Other failures are retried after 50-200 ms; a kind not served is not.
    await new Promise(r => setTimeout(r, 300));
    expect(lists()).toBe(1);

    api.notServed.delete(kustomizations);
    await eventually(() =>
      expect(cluster.health()).toEqual({ state: 'ok', unavailable: [] }),
    );
    expect(lists()).toBe(2);
  });

  it('is down when a required kind is forbidden, naming the kind but not the identity', async () => {
    api.forbidden.add('/apis/discovery.k8s.io/v1/endpointslices');
    await cluster.start();
    await eventually(() => expect(cluster.health().state).toBe('error'));
    const { error } = cluster.health();
    expect(error).toBe(
      "The rollouts plugin's identity may not list/watch endpointslices (RBAC).",
    );
  });

  it("writes with its own identity only when one is configured, else with the user's token", async () => {
    expect(cluster.writeAccess()).toEqual({
      mode: 'disabled',
      reason: 'read-only test',
    });
    expect(() => cluster.writer()).toThrow('read-only test');
    const kc = new KubeConfig();
    kc.loadFromString(JSON.stringify({}));
    const userCluster = new InformerCluster({
      name: 'oidc',
      kubeConfig: kc,
      write: {
        mode: 'user',
        authProvider: 'oidc',
        oidcTokenProvider: 'okta',
        connection: {
          name: 'oidc',
          url: `http://127.0.0.1:${api.port}`,
          skipTLSVerify: true,
        },
      },
      logger: mockServices.logger.mock(),
    });
    expect(userCluster.writeAccess()).toEqual({
      mode: 'user',
      authProvider: 'oidc',
      oidcTokenProvider: 'okta',
    });
    expect(() => userCluster.writer()).toThrow(
      /use your own Kubernetes credentials \(auth provider oidc\)/,
    );
    await userCluster
      .writer('user-token')
      .getService('fastapi-demo', 'demo-api');
    expect(api.requests.at(-1)).toMatchObject({
      path: '/api/v1/namespaces/fastapi-demo/services/demo-api',
      auth: 'Bearer user-token',
    });
  });

  it('lists in pages, following continue tokens from one snapshot', async () => {
    for (let i = 3; i <= 7; i += 1) api.upsert(`demo-api-blue-${i}`);
    await cluster.stop();
    cluster = makeCluster(3);
    await cluster.start();
    await eventually(() => expect(cluster.health().state).toBe('ok'));
    expect(names()).toHaveLength(7);
    const lists = api.podRequests().filter(r => !r.watch);
    expect(lists.map(r => [r.limit, r.continue])).toEqual([
      ['3', undefined],
      ['3', '107:3'],
      ['3', '107:6'],
    ]);
    // The watch starts from the snapshot the pages belong to.
    await eventually(() => expect(api.podWatches.size).toBe(1));
    expect(api.podRequests().find(r => r.watch)!.rv).toBe('107');
  });

  it('lists again from the first page when a continue token expired (410)', async () => {
    for (let i = 3; i <= 5; i += 1) api.upsert(`demo-api-blue-${i}`);
    await cluster.stop();
    cluster = makeCluster(2);
    api.expireNextContinue = true;
    await cluster.start();
    await eventually(() => expect(cluster.health().state).toBe('ok'));
    expect(names()).toEqual([1, 2, 3, 4, 5].map(i => `demo-api-blue-${i}`));
    expect(
      api
        .podRequests()
        .filter(r => !r.watch)
        .map(r => r.continue),
    ).toEqual([undefined, '105:2', undefined, '105:2', '105:4']);
  });

  it('keeps the indexes in step with the watch: label changes and deletes', async () => {
    await cluster.start();
    await eventually(() => expect(api.podWatches.size).toBe(1));
    const pods = cluster.objects('pods');
    expect(pods.matching({ matchLabels: { app: 'demo' } })).toHaveLength(2);

    api.upsert('demo-api-blue-1', { app: 'demo', slot: 'green' });
    api.remove('demo-api-blue-2');
    await eventually(() =>
      expect(
        pods
          .matching({ matchLabels: { app: 'demo' } })
          .map(p => p.metadata?.name),
      ).toEqual(['demo-api-blue-1']),
    );
    expect(
      pods.matching({ matchLabels: { slot: 'green' } }, 'fastapi-demo'),
    ).toHaveLength(1);
    expect(pods.all()).toHaveLength(1);
  });
});
