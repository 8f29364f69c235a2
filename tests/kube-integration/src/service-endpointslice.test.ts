/*
 * Blue/green traffic switch: changing a Service's selector makes the EndpointSlice
 * controller move the Service's endpoints to the other set of pods. The time from
 * the PATCH to the EndpointSlice update is measured with a watch (no polling).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import {
  Clients,
  clients,
  col,
  createTestNamespace,
  deleteTestNamespace,
  isPodReady,
  restrictedPodTemplate,
  rolloutSucceeded,
  waitForList,
  waitForObject,
  watchUntil,
} from './kube';

const SERVICE = 'demo-api';
const SLOT = 'app.kubernetes.io/slot';

type Slot = 'blue' | 'green';

/** Ready endpoint addresses of all EndpointSlices of the Service. */
function readyAddresses(slices: Map<string, any>): Set<string> {
  const out = new Set<string>();
  for (const slice of slices.values()) {
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready !== false)
        for (const a of ep.addresses ?? []) out.add(a);
    }
  }
  return out;
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every(x => b.has(x));
}

describe('Service selector switch -> EndpointSlices', () => {
  let c: Clients;
  let ns: string;
  const podIPs: Record<Slot, Set<string>> = {
    blue: new Set(),
    green: new Set(),
  };

  beforeAll(async () => {
    c = clients();
    ns = await createTestNamespace(c.core, 'bluegreen');
    for (const [slot, image] of [
      ['blue', 'ghcr.io/example/fastapi-demo:1.0.0'],
      ['green', 'ghcr.io/example/fastapi-demo:2.0.0'],
    ] as const) {
      const labels = { 'app.kubernetes.io/name': SERVICE, [SLOT]: slot };
      await c.apps.createNamespacedDeployment({
        namespace: ns,
        body: {
          metadata: { name: `${SERVICE}-${slot}`, labels },
          spec: {
            replicas: 2,
            selector: { matchLabels: labels },
            template: restrictedPodTemplate(labels, image),
          },
        },
      });
    }
    for (const slot of ['blue', 'green'] as const) {
      await waitForObject(
        col.deployments(ns),
        `${SERVICE}-${slot}`,
        rolloutSucceeded,
        90_000,
        `${slot} deployment`,
      );
      const pods = await waitForList(
        col.pods(ns),
        { labelSelector: `${SLOT}=${slot}` },
        items =>
          items.size === 2 &&
          [...items.values()].every(p => isPodReady(p) && p.status.podIP),
        60_000,
        `${slot} pods Ready with IPs`,
      );
      podIPs[slot] = new Set([...pods.values()].map(p => p.status.podIP));
    }
    expect([...podIPs.blue].some(ip => podIPs.green.has(ip))).toBe(false);

    await c.core.createNamespacedService({
      namespace: ns,
      body: {
        metadata: { name: SERVICE },
        spec: {
          selector: { 'app.kubernetes.io/name': SERVICE, [SLOT]: 'blue' },
          ports: [{ name: 'http', port: 80, targetPort: 'http' as any }],
        },
      },
    });
  });

  afterAll(async () => {
    if (ns) await deleteTestNamespace(c.core, ns);
  });

  const sliceQuery = () => ({
    labelSelector: `kubernetes.io/service-name=${SERVICE}`,
  });

  async function switchTo(slot: Slot): Promise<number> {
    const watch = watchUntil(
      col.endpointSlices(ns),
      sliceQuery(),
      (slices, event) =>
        event !== undefined && sameSet(readyAddresses(slices), podIPs[slot]),
      30_000,
      `EndpointSlices of ${SERVICE} to point at the ${slot} pods`,
    );
    await watch.started;
    const t0 = process.hrtime.bigint();
    await c.core.patchNamespacedService(
      {
        namespace: ns,
        name: SERVICE,
        body: { spec: { selector: { [SLOT]: slot } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    await watch.done;
    return Number(process.hrtime.bigint() - t0) / 1e6;
  }

  it('starts with the EndpointSlices on the blue pods', async () => {
    const slices = await waitForList(
      col.endpointSlices(ns),
      sliceQuery(),
      s => sameSet(readyAddresses(s), podIPs.blue),
      30_000,
      'EndpointSlices for blue',
    );
    for (const slice of slices.values()) {
      expect(slice.addressType).toBe('IPv4');
      expect(
        slice.metadata.labels['endpointslice.kubernetes.io/managed-by'],
      ).toBe('endpointslice-controller.k8s.io');
      expect(slice.ports).toEqual([
        { name: 'http', port: 8000, protocol: 'TCP' },
      ]);
    }
  });

  it('moves the endpoints to green on a selector PATCH, and back (rollback)', async () => {
    const toGreen = await switchTo('green');
    const toBlue = await switchTo('blue');
    // eslint-disable-next-line no-console
    console.log(
      `[kube-integration] selector PATCH -> EndpointSlice update: blue->green ${toGreen.toFixed(
        1,
      )} ms, green->blue ${toBlue.toFixed(1)} ms`,
    );
    expect(toGreen).toBeLessThan(30_000);
    expect(toBlue).toBeLessThan(30_000);

    const svc = await c.core.readNamespacedService({
      namespace: ns,
      name: SERVICE,
    });
    expect(svc.spec?.selector?.[SLOT]).toBe('blue');
  });
});
