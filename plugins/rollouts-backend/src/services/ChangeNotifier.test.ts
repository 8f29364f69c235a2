import { mockServices } from '@backstage/backend-test-utils';
import { FakeCluster, FakeRegistry } from '../testUtils/FakeCluster';
import { ChangeNotifier } from './ChangeNotifier';
import { selects } from './entitySelection';

// Counts how many watched entities a change is checked against.
jest.mock('./entitySelection', () => {
  const actual = jest.requireActual('./entitySelection');
  return { ...actual, selects: jest.fn(actual.selects) };
});

const selection = {
  labelSelector: {
    matchLabels: { 'backstage.io/kubernetes-id': 'fastapi-demo' },
  },
};

function setup(options: { ttlMs?: number; keepaliveIntervalMs?: number } = {}) {
  const local = new FakeCluster('local');
  const other = new FakeCluster('other');
  const signals = { publish: jest.fn(async () => {}) };
  const notifier = new ChangeNotifier({
    clusters: new FakeRegistry([local, other]),
    signals,
    logger: mockServices.logger.mock(),
    minIntervalMs: 20,
    ttlMs: options.ttlMs,
    keepaliveIntervalMs: options.keepaliveIntervalMs,
  });
  notifier.start();
  return { local, other, signals, notifier };
}

const pod = (namespace: string, labels: Record<string, string> = {}) => ({
  metadata: { name: `p-${Math.random()}`, namespace, labels },
});
// Fake timers (Date.now included): the coalescing window is exact, whatever
// the load on the machine running the tests.
const wait = async (ms: number) => {
  jest.advanceTimersByTime(ms);
};

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('ChangeNotifier', () => {
  it('signals the first change at once and coalesces the rest of a burst', async () => {
    const { local, signals, notifier } = setup();
    notifier.track(
      'component:default/fastapi-demo',
      selection,
      new Map([['local', new Set(['fastapi-demo'])]]),
    );
    local.put('pods', pod('fastapi-demo'));
    // No timer in between: a pod turning Ready reaches open pages without delay
    expect(signals.publish).toHaveBeenCalledTimes(1);
    expect(signals.publish).toHaveBeenCalledWith({
      recipients: { type: 'broadcast' },
      channel: 'rollouts:component:default/fastapi-demo',
      message: {
        type: 'changed',
        cluster: 'local',
        resourceVersion: expect.any(String),
      },
    });
    local.put('pods', pod('fastapi-demo'));
    local.put('endpointslices', pod('fastapi-demo'));
    expect(signals.publish).toHaveBeenCalledTimes(1);
    // The two later changes arrive as one signal when the window ends
    await wait(19);
    expect(signals.publish).toHaveBeenCalledTimes(1);
    await wait(1);
    expect(signals.publish).toHaveBeenCalledTimes(2);
    await wait(60);
    // Quiet for longer than the window: the next change goes out at once again
    local.put('pods', pod('fastapi-demo'));
    expect(signals.publish).toHaveBeenCalledTimes(3);
    notifier.stop();
  });

  it('names the newest change it covers, so a page drops the copy another replica sends', async () => {
    // Two replicas: each watches the same cluster and sees the same changes.
    const local = new FakeCluster('local');
    const replica = () => {
      const signals = { publish: jest.fn(async () => {}) };
      const notifier = new ChangeNotifier({
        clusters: new FakeRegistry([local]),
        signals,
        logger: mockServices.logger.mock(),
        minIntervalMs: 20,
      });
      notifier.start();
      notifier.track(
        'component:default/fastapi-demo',
        selection,
        new Map([['local', new Set(['fastapi-demo'])]]),
      );
      return { signals, notifier };
    };
    const a = replica();
    const b = replica();
    const first = local.put('pods', pod('fastapi-demo'));
    local.put('pods', pod('fastapi-demo'));
    const last = local.put('pods', pod('fastapi-demo'));
    await wait(20);
    const sent = (r: typeof a) =>
      r.signals.publish.mock.calls.map((call: any[]) => call[0].message);
    expect(sent(a)).toEqual([
      {
        type: 'changed',
        cluster: 'local',
        resourceVersion: first.metadata!.resourceVersion,
      },
      {
        type: 'changed',
        cluster: 'local',
        resourceVersion: last.metadata!.resourceVersion,
      },
    ]);
    expect(sent(b)).toEqual(sent(a));
    a.notifier.stop();
    b.notifier.stop();
  });

  it('ignores other namespaces unless the object carries the entity’s labels', async () => {
    const { local, other, signals, notifier } = setup();
    notifier.track(
      'component:default/fastapi-demo',
      selection,
      new Map([['local', new Set(['fastapi-demo'])]]),
    );
    local.put('pods', pod('kube-system'));
    other.put('pods', pod('fastapi-demo'));
    await wait(60);
    expect(signals.publish).not.toHaveBeenCalled();
    other.put(
      'deployments',
      pod('elsewhere', { 'backstage.io/kubernetes-id': 'fastapi-demo' }),
    );
    await wait(60);
    expect(signals.publish).toHaveBeenCalledWith(
      expect.objectContaining({
        message: expect.objectContaining({ type: 'changed', cluster: 'other' }),
      }),
    );
    notifier.stop();
  });

  it("signals a Flux Kustomization that names the entity or carries its labels, not another's", async () => {
    const { local, signals, notifier } = setup();
    notifier.track(
      'component:default/fastapi-demo',
      { ...selection, namespace: 'fastapi-demo' },
      new Map([['local', new Set(['fastapi-demo'])]]),
    );
    const kustomization = (
      name: string,
      metadata: {
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
      },
    ) => ({ metadata: { name, namespace: 'flux-system', ...metadata } });
    local.put(
      'kustomizations',
      kustomization('other-dev', {
        labels: { 'backstage.io/kubernetes-id': 'other' },
        annotations: {
          'rollouts.backstage.io/entity-ref': 'component:default/other',
        },
      }),
    );
    await wait(60);
    expect(signals.publish).not.toHaveBeenCalled();

    // Registered by the portal: only the annotation names the entity.
    local.put(
      'kustomizations',
      kustomization('fastapi-demo-dev', {
        annotations: {
          'rollouts.backstage.io/entity-ref': 'Component:default/fastapi-demo',
        },
      }),
    );
    expect(signals.publish).toHaveBeenCalledTimes(1);
    await wait(60);
    // The repository's own manifests: labels, in Flux's namespace although
    // the entity's workloads are restricted to theirs.
    local.put(
      'kustomizations',
      kustomization('fastapi-demo-prod', {
        labels: { 'backstage.io/kubernetes-id': 'fastapi-demo' },
      }),
    );
    expect(signals.publish).toHaveBeenCalledTimes(2);
    notifier.stop();
  });

  it('honours the cluster annotation and forgets pages nobody looked at', async () => {
    const { local, other, signals, notifier } = setup({ ttlMs: 30 });
    notifier.track(
      'component:default/fastapi-demo',
      { ...selection, cluster: 'local' },
      new Map([
        ['local', new Set(['fastapi-demo'])],
        ['other', new Set(['fastapi-demo'])],
      ]),
    );
    other.put('pods', pod('fastapi-demo'));
    await wait(60);
    expect(signals.publish).not.toHaveBeenCalled();
    local.put('pods', pod('fastapi-demo'));
    await wait(60);
    expect(signals.publish).not.toHaveBeenCalled();
    expect(notifier.watchedEntities()).toEqual([]);
    notifier.stop();
  });

  it('sends keepalives to open pages only, until nobody looks any more', async () => {
    const { signals, notifier } = setup({
      ttlMs: 2500,
      keepaliveIntervalMs: 1000,
    });
    await wait(1000);
    expect(signals.publish).not.toHaveBeenCalled();
    notifier.track(
      'component:default/fastapi-demo',
      selection,
      new Map([['local', new Set(['fastapi-demo'])]]),
    );
    await wait(1000);
    expect(signals.publish).toHaveBeenCalledTimes(1);
    expect(signals.publish).toHaveBeenLastCalledWith({
      recipients: { type: 'broadcast' },
      channel: 'rollouts:component:default/fastapi-demo',
      message: { type: 'keepalive' },
    });
    await wait(1000);
    expect(signals.publish).toHaveBeenCalledTimes(2);
    // Not viewed for longer than the TTL: forgotten, no more keepalives.
    await wait(2000);
    expect(signals.publish).toHaveBeenCalledTimes(2);
    expect(notifier.watchedEntities()).toEqual([]);
    notifier.stop();
  });

  it('stops its keepalive timer on stop', async () => {
    const { signals, notifier } = setup({ keepaliveIntervalMs: 1000 });
    notifier.track('component:default/a', selection, new Map());
    expect(jest.getTimerCount()).toBe(1);
    notifier.stop();
    expect(jest.getTimerCount()).toBe(0);
    await wait(5000);
    expect(signals.publish).not.toHaveBeenCalled();
  });

  it('checks a change only against the entities of its namespace or labels', async () => {
    const { local, signals, notifier } = setup();
    const entities = 2000;
    for (let i = 0; i < entities; i += 1) {
      notifier.track(
        `component:default/e${i}`,
        {
          labelSelector: {
            matchLabels: { 'backstage.io/kubernetes-id': `e${i}` },
          },
        },
        new Map([['local', new Set([`ns-${i}`])]]),
      );
    }
    jest.mocked(selects).mockClear();

    // Nobody's namespace, nobody's labels: no entity is even looked at.
    local.put('pods', pod('kube-system', { app: 'coredns' }));
    expect(selects).not.toHaveBeenCalled();
    // Another namespace, one entity's labels: that entity only.
    local.put('pods', pod('elsewhere', { 'backstage.io/kubernetes-id': 'e7' }));
    expect(selects).toHaveBeenCalledTimes(1);
    // One entity's namespace: that entity only, signalled.
    local.put('pods', pod('ns-1234'));
    expect(signals.publish.mock.calls.map(c => (c as any)[0].channel)).toEqual([
      'rollouts:component:default/e7',
      'rollouts:component:default/e1234',
    ]);
    notifier.stop();
  });
});
