/*
 * The status route's kept answers: ETag and 304, gzip sent as kept, and a
 * change to the cluster cache seen by the next request.
 */
import request from 'supertest';
import { deployment } from './testUtils/demoCluster';
import {
  asOwner,
  asStranger,
  BASE,
  STRANGER,
  startRolloutsBackend as start,
} from './testUtils/startRolloutsBackend';

const readyOfBlue = (body: any) =>
  body.clusters[0].deployments.find(
    (d: { name: string }) => d.name === 'demo-api-blue',
  ).status.ready;

describe('status route answers', () => {
  it('answers 304 to a page that has the current answer, and the new answer after a change', async () => {
    const { server, cluster } = await start();
    const first = await request(server)
      .get(`${BASE}/status`)
      .set('Authorization', asOwner);
    expect(first.status).toBe(200);
    const etag = first.headers.etag;
    expect(etag).toMatch(/^W\//);

    const unchanged = await request(server)
      .get(`${BASE}/status`)
      .set('Authorization', asOwner)
      .set('If-None-Match', etag);
    expect(unchanged.status).toBe(304);
    expect(unchanged.text).toBe('');

    cluster.put('deployments', deployment('blue', { available: 1 }));
    const changed = await request(server)
      .get(`${BASE}/status`)
      .set('Authorization', asOwner)
      .set('If-None-Match', etag);
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(readyOfBlue(first.body)).toBe(2);
    expect(readyOfBlue(changed.body)).toBe(1);
  });

  it('sends the same answer gzip-compressed to a client that accepts it, and plain to one that does not', async () => {
    const { server } = await start();
    const gzip = await request(server)
      .get(`${BASE}/status`)
      .set('Authorization', asOwner)
      .set('Accept-Encoding', 'gzip');
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gzip.headers.vary).toMatch(/Accept-Encoding/);
    const plain = await request(server)
      .get(`${BASE}/status`)
      .set('Authorization', asOwner)
      .set('Accept-Encoding', 'identity');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['content-type']).toMatch(/^application\/json/);
    expect(gzip.body).toEqual(plain.body);
    expect(gzip.headers.etag).toBe(plain.headers.etag);
  });

  it('checks permissions before answering from a kept answer, even with its ETag', async () => {
    const { server } = await start({ hiddenFrom: [STRANGER] });
    const owner = await request(server)
      .get(`${BASE}/status`)
      .set('Authorization', asOwner);
    const stranger = await request(server)
      .get(`${BASE}/status`)
      .set('Authorization', asStranger)
      .set('If-None-Match', owner.headers.etag);
    expect(stranger.status).toBe(404);
  });

  it('computes the answer anew for Cache-Control: no-cache', async () => {
    const { server } = await start();
    const kept = await request(server)
      .get(`${BASE}/status`)
      .set('Authorization', asOwner);
    await new Promise(resolve => setTimeout(resolve, 5));
    const fresh = await request(server)
      .get(`${BASE}/status`)
      .set('Authorization', asOwner)
      .set('Cache-Control', 'no-cache')
      .set('If-None-Match', kept.headers.etag);
    expect(fresh.status).toBe(200);
    expect(fresh.body.generatedAt > kept.body.generatedAt).toBe(true);
  });
});
