import { ConfigReader } from '@backstage/config';
import { gunzipSync } from 'node:zlib';
import { readRolloutsSettings } from '../../settings';
import {
  demoCluster,
  demoEntity,
  deployment,
  ENTITY_REF,
} from '../../testUtils/demoCluster';
import { FakeCluster, FakeRegistry } from '../../testUtils/FakeCluster';
import { entitySelection } from '../entitySelection';
import { StatusAnswerCache } from './StatusAnswerCache';
import { StatusService } from './StatusService';

const selection = entitySelection(demoEntity)!;

function setup(cluster: FakeCluster = demoCluster(), maxBytes?: number) {
  const status = new StatusService(
    new FakeRegistry([cluster]),
    readRolloutsSettings(new ConfigReader({})),
  );
  const getStatus = jest.spyOn(status, 'getStatus');
  const answers = new StatusAnswerCache(status, new FakeRegistry([cluster]), {
    maxBytes,
  });
  return { cluster, answers, getStatus };
}

const parse = (json: Buffer) => JSON.parse(json.toString('utf8'));

describe('StatusAnswerCache', () => {
  it('answers again from the kept answer while nothing it came from changed', () => {
    const { answers, getStatus } = setup();
    const first = answers.answer(ENTITY_REF, selection);
    const second = answers.answer(ENTITY_REF, { ...selection });
    expect(second).toBe(first);
    expect(getStatus).toHaveBeenCalledTimes(1);
    expect(parse(first.json).entityRef).toBe(ENTITY_REF);
    expect(first.namespaces.get('local')).toEqual(new Set(['fastapi-demo']));
  });

  it('computes the answer again after any change to the cluster cache', () => {
    const { cluster, answers, getStatus } = setup();
    const before = answers.answer(ENTITY_REF, selection);
    cluster.put('deployments', deployment('blue', { available: 1 }));
    const after = answers.answer(ENTITY_REF, selection);
    expect(getStatus).toHaveBeenCalledTimes(2);
    const blueOf = (json: Buffer) =>
      parse(json).clusters[0].deployments.find(
        (d: { name: string }) => d.name === 'demo-api-blue',
      ).status;
    expect(blueOf(before.json)).toMatchObject({ ready: 2 });
    expect(blueOf(after.json)).toMatchObject({ ready: 1 });
    expect(after.etag).not.toBe(before.etag);
  });

  it('computes the answer again when the cluster health or write access changes', () => {
    const { cluster, answers, getStatus } = setup();
    answers.answer(ENTITY_REF, selection);
    cluster.currentHealth = {
      state: 'error',
      error: 'the API server refused the plugin (401)',
      staleSince: 1,
      unavailable: [],
    };
    const stale = answers.answer(ENTITY_REF, selection);
    expect(parse(stale.json).clusters[0]).toMatchObject({
      state: 'error',
      stale: { since: new Date(1).toISOString() },
    });
    cluster.access = { mode: 'disabled', reason: 'no write identity' };
    const disabled = answers.answer(ENTITY_REF, selection);
    expect(parse(disabled.json).clusters[0].writes).toEqual({
      mode: 'disabled',
      reason: 'no write identity',
    });
    expect(getStatus).toHaveBeenCalledTimes(3);
  });

  it('computes the answer again for a changed selection', () => {
    const { answers, getStatus } = setup();
    const before = answers.answer(ENTITY_REF, selection);
    const after = answers.answer(ENTITY_REF, {
      ...selection,
      namespace: 'elsewhere',
    });
    expect(getStatus).toHaveBeenCalledTimes(2);
    expect(parse(before.json).clusters[0].deployments).not.toHaveLength(0);
    expect(parse(after.json).clusters[0].deployments).toHaveLength(0);
  });

  it('keeps the gzip bytes of the same JSON', () => {
    const { answers } = setup();
    const answer = answers.answer(ENTITY_REF, selection);
    expect(gunzipSync(answer.gzip()).equals(answer.json)).toBe(true);
    expect(answer.gzip()).toBe(answer.gzip());
    expect(answer.etag).toMatch(/^W\/"[\w-]+"$/);
  });

  it('drops the least recently read answers beyond its byte limit', () => {
    const one = demoCluster();
    const { answers, getStatus } = setup(one, 1);
    answers.answer('component:default/a', selection);
    answers.answer('component:default/b', selection);
    // Over the limit, the newest answer stays; the older one went.
    expect(answers.heldBytes()).toBe(
      answers.answer('component:default/b', selection).json.length,
    );
    answers.answer('component:default/a', selection);
    expect(getStatus).toHaveBeenCalledTimes(3);
  });

  it('stops counting changes when stopped', () => {
    const cluster = demoCluster();
    const unsubscribe = jest.fn();
    jest.spyOn(cluster, 'subscribe').mockReturnValue(unsubscribe);
    const { answers } = setup(cluster);
    answers.answer(ENTITY_REF, selection);
    answers.answer(ENTITY_REF, selection);
    expect(cluster.subscribe).toHaveBeenCalledTimes(1);
    answers.stop();
    expect(unsubscribe).toHaveBeenCalledTimes(1);
    expect(answers.heldBytes()).toBe(0);
  });
});
