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
    debounceMs: 20,
    ttlMs: options.ttlMs,
  });
  notifier.start();
  return { local, other, signals, notifier };
}

const pod = (namespace: string, labels: Record<string, string> = {}) => ({
  metadata: { name: `p-${Math.random()}`, namespace, labels },
});
const wait = (ms: number) => new Promise(r => setTimeout(r, ms));

describe('ChangeNotifier', () => {
  it('sends one signal per burst of changes in the entity’s namespaces', async () => {
    const { local, signals, notifier } = setup();
    notifier.track(
      'component:default/fastapi-demo',
      selection,
      new Map([['local', new Set(['fastapi-demo'])]]),
    );
    local.put('pods', pod('fastapi-demo'));
    local.put('pods', pod('fastapi-demo'));
    local.put('endpointslices', pod('fastapi-demo'));
    await wait(60);
    expect(signals.publish).toHaveBeenCalledTimes(1);
    expect(signals.publish).toHaveBeenCalledWith({
      recipients: { type: 'broadcast' },
      channel: 'rollouts:component:default/fastapi-demo',
      message: { type: 'changed', cluster: 'local' },
    });
    local.put('pods', pod('fastapi-demo'));
    await wait(60);
    expect(signals.publish).toHaveBeenCalledTimes(2);
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
