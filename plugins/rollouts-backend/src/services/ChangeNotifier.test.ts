import { mockServices } from '@backstage/backend-test-utils';
import { FakeCluster, FakeRegistry } from '../testing/FakeCluster';
import { ChangeNotifier } from './ChangeNotifier';

const selection = {
  labelSelector: {
    matchLabels: { 'backstage.io/kubernetes-id': 'fastapi-demo' },
  },
};

function setup(options: { ttlMs?: number } = {}) {
  const local = new FakeCluster('local');
  const other = new FakeCluster('other');
  const signals = { publish: jest.fn(async () => {}) };
  const notifier = new ChangeNotifier({
    clusters: new FakeRegistry([local, other]),
    signals,
    logger: mockServices.logger.mock(),
    minIntervalMs: 20,
    ttlMs: options.ttlMs,
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
      message: { type: 'changed', cluster: 'local' },
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
        message: { type: 'changed', cluster: 'other' },
      }),
    );
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
});
