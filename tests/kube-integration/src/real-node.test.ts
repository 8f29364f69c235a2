/*
 * Real containers on the local cluster's real nodes (platform/cluster.sh, NODES>=1):
 * a busybox httpd pod serves HTTP that the host reads through a ClusterIP Service, a
 * NodePort and a LoadBalancer address; pods reach it (and the API server) through
 * Services; a NetworkPolicy blocks exactly what it does not allow; kubectl logs, exec
 * and port-forward reach the kubelet. Prints pod create → Ready time.
 *
 * Runs when KUBE_REAL_NODES > 0 (scripts/test-kube-integration.sh sets it from NODES);
 * otherwise it is skipped (a cluster of fake nodes only runs nothing).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { V1Service } from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import {
  Clients,
  clients,
  col,
  createTestNamespace,
  deleteTestNamespace,
  isPodReady,
  KWOK_TOLERATION,
  REAL_NODE_LABEL,
  rolloutSucceeded,
  waitForList,
  waitForObject,
} from './kube';
import {
  clientPodSpec,
  eventually,
  expectedRealNodes,
  httpGet,
  inCidr,
  KUBECTL,
  kubectl,
  recordTiming,
  createPodUntilReady,
  WEB_PORT,
  webPodSpec,
  wgetFromPod,
} from './realNode';

// The address plan of platform/lib.sh (exported by scripts/test-kube-integration.sh).
const POD_CIDR = process.env.KUBE_POD_CIDR ?? '198.18.0.0/16';
const SERVICE_CIDR = process.env.KUBE_SERVICE_CIDR ?? '198.19.0.0/16';
const LB_POOL = process.env.KUBE_LB_POOL ?? '198.51.100.128/25';
const KUBERNETES_SERVICE_IP = process.env.KUBE_SERVICE_IP ?? '198.19.0.1';

const WEB = 'web';
const WEB_LABELS = { app: WEB };
const REPLICAS = 2;

const describeReal = expectedRealNodes > 0 ? describe : describe.skip;

describeReal('real nodes: containers, Services, NetworkPolicy, kubectl', () => {
  let c: Clients;
  let ns: string;
  let realNodes: Map<string, string>; // name -> InternalIP
  let webPods: string[];
  let clusterIP: string;

  const service = (name: string, spec: Partial<V1Service['spec']>) =>
    c.core.createNamespacedService({
      namespace: ns,
      body: {
        metadata: { name },
        spec: {
          selector: WEB_LABELS,
          ports: [{ name: 'http', port: 80, targetPort: 'http' as any }],
          ...spec,
        },
      },
    });

  beforeAll(async () => {
    c = clients();
    const nodes = await c.core.listNode({ labelSelector: REAL_NODE_LABEL });
    realNodes = new Map(
      nodes.items
        .filter(n =>
          n.status?.conditions?.some(
            x => x.type === 'Ready' && x.status === 'True',
          ),
        )
        .map(n => [
          n.metadata!.name!,
          n.status!.addresses!.find(a => a.type === 'InternalIP')!.address,
        ]),
    );
    expect(realNodes.size).toBe(expectedRealNodes);

    ns = await createTestNamespace(c.core, 'real');
    await c.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: WEB },
        spec: {
          replicas: REPLICAS,
          selector: { matchLabels: WEB_LABELS },
          template: { metadata: { labels: WEB_LABELS }, spec: webPodSpec() },
        },
      },
    });
    for (const [name, labels] of [
      ['client', { role: 'client' }],
      ['client-granted', { role: 'client', access: 'granted' }],
    ] as const) {
      await c.core.createNamespacedPod({
        namespace: ns,
        body: { metadata: { name, labels }, spec: clientPodSpec() },
      });
    }
    await service(WEB, { type: 'ClusterIP' });
    await service(`${WEB}-np`, { type: 'NodePort' });
    await service(`${WEB}-lb`, { type: 'LoadBalancer' });

    await waitForObject(
      col.deployments(ns),
      WEB,
      rolloutSucceeded,
      90_000,
      'the web Deployment to roll out on the real nodes',
    );
    const pods = await waitForList(
      col.pods(ns),
      { labelSelector: 'role=client' },
      items => items.size === 2 && [...items.values()].every(isPodReady),
      60_000,
      'the client pods to become Ready',
    );
    expect(pods.size).toBe(2);
    webPods = (
      await c.core.listNamespacedPod({
        namespace: ns,
        labelSelector: 'app=web',
      })
    ).items
      .filter(isPodReady)
      .map(p => p.metadata!.name!)
      .sort();
    expect(webPods).toHaveLength(REPLICAS);
    clusterIP = (
      await c.core.readNamespacedService({ name: WEB, namespace: ns })
    ).spec!.clusterIP!;
  });

  afterAll(async () => {
    if (ns) await deleteTestNamespace(c.core, ns, 120_000);
  });

  it('starts a pod on a real node and serves HTTP from its pod IP (prints create → Ready)', async () => {
    const { pod, ms } = await createPodUntilReady(c, ns, {
      metadata: { name: 'probe', labels: { app: 'probe' } },
      spec: webPodSpec(),
    });
    recordTiming(
      'pod create → Ready',
      ms,
      `${pod.spec.nodeName}, IP ${pod.status.podIP}`,
    );
    expect(realNodes.has(pod.spec.nodeName)).toBe(true);
    expect(inCidr(pod.status.podIP, POD_CIDR)).toBe(true);
    const res = await httpGet(`http://${pod.status.podIP}:${WEB_PORT}/`);
    expect(res).toEqual({ status: 200, body: 'probe\n' });
  });

  it('ClusterIP Service: the host reaches it and it spreads requests over every pod', async () => {
    expect(inCidr(clusterIP, SERVICE_CIDR)).toBe(true);
    const seen = new Set<string>();
    await eventually(
      async () => {
        const res = await httpGet(`http://${clusterIP}/`);
        expect(res.status).toBe(200);
        seen.add(res.body.trim());
        expect([...seen].sort()).toEqual(webPods);
      },
      30_000,
      50,
    );
    expect([...seen].sort()).toEqual(webPods);
  });

  it('pod to pod through the ClusterIP Service', async () => {
    const res = await eventually(async () => {
      const r = await wgetFromPod(ns, 'client', `http://${clusterIP}/`);
      expect(r.code).toBe(0);
      return r;
    }, 20_000);
    expect(webPods).toContain(res.stdout.trim());
  });

  it('pod to pod through the Service DNS name (cluster DNS: the CoreDNS add-on)', async () => {
    for (const host of [`${WEB}.${ns}.svc.cluster.local`, WEB]) {
      const res = await eventually(async () => {
        const r = await wgetFromPod(ns, 'client', `http://${host}/`);
        expect({ host, code: r.code, stderr: r.stderr }).toMatchObject({
          host,
          code: 0,
        });
        return r;
      }, 30_000);
      expect(webPods).toContain(res.stdout.trim());
    }
  });

  it('pods reach the API server through the kubernetes Service', async () => {
    // An unauthenticated GET of /version over TLS is answered by the API server; busybox
    // has no TLS, so a TCP connection that the server accepts is the proof here.
    const r = await kubectl([
      '-n',
      ns,
      'exec',
      'client',
      '--',
      'sh',
      '-c',
      `echo | timeout 5 nc ${KUBERNETES_SERVICE_IP} 443 >/dev/null && echo connected`,
    ]);
    expect(r.stdout.trim()).toBe('connected');
  });

  it('NodePort Service: the host reaches it on every node IP', async () => {
    const svc = await c.core.readNamespacedService({
      name: `${WEB}-np`,
      namespace: ns,
    });
    const nodePort = svc.spec!.ports![0].nodePort!;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    for (const ip of realNodes.values()) {
      const res = await eventually(
        () => httpGet(`http://${ip}:${nodePort}/`),
        20_000,
      );
      expect(res.status).toBe(200);
      expect(webPods).toContain(res.body.trim());
    }
  });

  it('LoadBalancer Service: gets a NodePort and an address from the pool that the host reaches', async () => {
    const svc = await waitForObject<V1Service>(
      { apiVersion: 'v1', kind: 'Service', plural: 'services', namespace: ns },
      `${WEB}-lb`,
      s => (s.status?.loadBalancer?.ingress?.length ?? 0) > 0,
      30_000,
      'the LoadBalancer Service to get an address',
    );
    const ip = svc.status!.loadBalancer!.ingress![0].ip!;
    expect(inCidr(ip, LB_POOL)).toBe(true);
    expect(svc.spec!.ports![0].nodePort).toBeGreaterThanOrEqual(30000);
    const res = await eventually(() => httpGet(`http://${ip}/`), 20_000);
    expect(res.status).toBe(200);
    expect(webPods).toContain(res.body.trim());
  });

  it('kubectl logs: the container log of a pod on a real node', async () => {
    const pod = webPods[0];
    // Requests (from the host) that the server logs.
    await eventually(
      async () => {
        const r = await httpGet(`http://${clusterIP}/`);
        expect(r.body.trim()).toBe(pod);
      },
      20_000,
      50,
    );
    const r = await kubectl(['-n', ns, 'logs', pod]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`serving ${pod}`);
    expect(r.stdout).toMatch(/response:200/);
  });

  it('kubectl exec: runs a command in the container, with its output and exit code', async () => {
    const pod = webPods[0];
    const cat = await kubectl([
      '-n',
      ns,
      'exec',
      pod,
      '--',
      'cat',
      '/tmp/www/index.html',
    ]);
    expect(cat).toEqual({ code: 0, stdout: `${pod}\n`, stderr: '' });
    const fails = await kubectl([
      '-n',
      ns,
      'exec',
      pod,
      '--',
      'sh',
      '-c',
      'echo oops >&2; exit 7',
    ]);
    expect(fails.code).toBe(7);
    expect(fails.stderr).toContain('oops');
  });

  it('kubectl port-forward: a local port reaches the pod', async () => {
    const pod = webPods[1];
    const child = spawn(
      KUBECTL,
      ['-n', ns, 'port-forward', `pod/${pod}`, `:${WEB_PORT}`],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(
          () => reject(new Error(`port-forward did not start: ${out}`)),
          20_000,
        );
        const onData = (d: Buffer) => {
          out += d.toString();
          const m = out.match(/Forwarding from 127\.0\.0\.1:(\d+)/);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', code =>
          reject(new Error(`kubectl port-forward exited (${code}): ${out}`)),
        );
      });
      const res = await httpGet(`http://127.0.0.1:${port}/`);
      expect(res).toEqual({ status: 200, body: `${pod}\n` });
    } finally {
      child.kill();
    }
  });

  it('NetworkPolicy: blocks a connection that succeeds without it, allows what it selects', async () => {
    const url = `http://${clusterIP}/`;
    // Both clients get through while no policy selects the web pods.
    for (const client of ['client', 'client-granted']) {
      const r = await eventually(async () => {
        const x = await wgetFromPod(ns, client, url);
        expect(x.code).toBe(0);
        return x;
      }, 20_000);
      expect(webPods).toContain(r.stdout.trim());
    }

    await c.networking.createNamespacedNetworkPolicy({
      namespace: ns,
      body: {
        metadata: { name: 'web-only-granted' },
        spec: {
          podSelector: { matchLabels: WEB_LABELS },
          policyTypes: ['Ingress'],
          ingress: [
            {
              _from: [{ podSelector: { matchLabels: { access: 'granted' } } }],
              ports: [{ port: WEB_PORT as any, protocol: 'TCP' }],
            },
          ],
        },
      },
    });
    const t0 = Date.now();
    // Enforcement follows the policy within a moment; then it holds.
    await eventually(async () => {
      expect((await wgetFromPod(ns, 'client', url)).code).not.toBe(0);
    }, 30_000);
    recordTiming('NetworkPolicy created → enforced', Date.now() - t0);
    for (let i = 0; i < 3; i++) {
      expect((await wgetFromPod(ns, 'client', url)).code).not.toBe(0);
      const granted = await wgetFromPod(ns, 'client-granted', url);
      expect(granted.code).toBe(0);
      expect(webPods).toContain(granted.stdout.trim());
    }

    await c.networking.deleteNamespacedNetworkPolicy({
      name: 'web-only-granted',
      namespace: ns,
    });
    await eventually(async () => {
      expect((await wgetFromPod(ns, 'client', url)).code).toBe(0);
    }, 30_000);
  });

  it('keeps ordinary pods off the fake nodes: every fake node is tainted, every pod ran on a real node', async () => {
    const fakes = await c.core.listNode({ labelSelector: 'type=kwok' });
    expect(fakes.items.length).toBeGreaterThan(0);
    for (const n of fakes.items) {
      expect(n.spec?.taints).toContainEqual({
        key: KWOK_TOLERATION.key,
        value: KWOK_TOLERATION.value,
        effect: KWOK_TOLERATION.effect,
      });
    }
    const pods = await c.core.listNamespacedPod({ namespace: ns });
    expect(pods.items.length).toBeGreaterThanOrEqual(REPLICAS + 2);
    for (const p of pods.items)
      expect(realNodes.has(p.spec!.nodeName!)).toBe(true);
  });

  (expectedRealNodes >= 2 ? it : it.skip)(
    'pods on different nodes reach each other through a Service',
    async () => {
      // One server per node, pinned by name, and a client on the first node.
      const names = [...realNodes.keys()].sort();
      for (const node of names) {
        await c.core.createNamespacedPod({
          namespace: ns,
          body: {
            metadata: { name: `spread-${node}`, labels: { app: 'spread' } },
            spec: webPodSpec({ nodeName: node }),
          },
        });
      }
      await service('spread', { selector: { app: 'spread' } });
      await waitForList(
        col.pods(ns),
        { labelSelector: 'app=spread' },
        items =>
          items.size === names.length && [...items.values()].every(isPodReady),
        60_000,
        'one server pod per node',
      );
      const ip = (
        await c.core.readNamespacedService({ name: 'spread', namespace: ns })
      ).spec!.clusterIP!;
      const seen = new Set<string>();
      await eventually(
        async () => {
          const r = await wgetFromPod(ns, 'client', `http://${ip}/`);
          expect(r.code).toBe(0);
          seen.add(r.stdout.trim());
          expect(seen.size).toBe(names.length);
        },
        60_000,
        100,
      );
      expect([...seen].sort()).toEqual(names.map(n => `spread-${n}`));
    },
  );
});
