import { RolloutsClient } from './RolloutsClient';

const entity = {
  kind: 'component',
  namespace: 'default',
  name: 'fastapi-demo',
};

function client(response: () => Response) {
  const fetch = jest.fn(async () => response());
  const discoveryApi = {
    getBaseUrl: jest.fn(async () => 'http://backend/api/rollouts'),
  };
  return {
    fetch,
    api: new RolloutsClient({ discoveryApi, fetchApi: { fetch } as any }),
  };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });

describe('RolloutsClient', () => {
  it('gets the status of an entity', async () => {
    const { api, fetch } = client(() =>
      json({ entityRef: 'component:default/fastapi-demo', clusters: [] }),
    );
    await expect(api.getStatus(entity)).resolves.toMatchObject({
      clusters: [],
    });
    expect(fetch).toHaveBeenCalledWith(
      'http://backend/api/rollouts/entity/component/default/fastapi-demo/status',
      undefined,
    );
  });

  it('posts a switch with a JSON body', async () => {
    const { api, fetch } = client(() => json({ from: 'blue', to: 'green' }));
    const request = {
      cluster: 'local',
      namespace: 'fastapi-demo',
      service: 'demo-api',
      targetSlot: 'green',
      expectedCurrentSlot: 'blue',
    };
    await api.switchTraffic(entity, request);
    const [url, init] = fetch.mock.calls[0] as any;
    expect(url).toBe(
      'http://backend/api/rollouts/entity/component/default/fastapi-demo/traffic/switch',
    );
    expect(init).toMatchObject({
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(JSON.parse(init.body)).toEqual(request);
  });

  it('posts a preflight with the action and the write headers', async () => {
    const { api, fetch } = client(() => json({ ok: true, checks: [] }));
    const request = {
      cluster: 'local',
      namespace: 'fastapi-demo',
      service: 'demo-api',
      action: 'rollback' as const,
    };
    await api.preflightTraffic(entity, request, {
      headers: { 'Backstage-Kubernetes-Authorization-oidc': 'token' },
    });
    const [url, init] = fetch.mock.calls[0] as any;
    expect(url).toBe(
      'http://backend/api/rollouts/entity/component/default/fastapi-demo/traffic/preflight',
    );
    expect(init.headers['Backstage-Kubernetes-Authorization-oidc']).toBe(
      'token',
    );
    expect(JSON.parse(init.body)).toEqual(request);
  });

  it("sends the user's Kubernetes credentials headers with a write, keeping the JSON content type", async () => {
    const { api, fetch } = client(() => json({}));
    await api.undoDeployment(
      entity,
      { cluster: 'c', namespace: 'n', deployment: 'd', toRevision: '3' },
      {
        headers: {
          'Backstage-Kubernetes-Authorization-oidc-okta': 'token',
          'Content-Type': 'text/plain',
        },
      },
    );
    const [, init] = fetch.mock.calls[0] as any;
    expect(init.headers).toEqual({
      'Backstage-Kubernetes-Authorization-oidc-okta': 'token',
      'Content-Type': 'application/json',
    });
    expect(JSON.parse(init.body).toRevision).toBe('3');
  });

  it('encodes entity names and uses the other write endpoints', async () => {
    const { api, fetch } = client(() => json({}));
    const odd = { kind: 'component', namespace: 'team a', name: 'x/y' };
    const req = { cluster: 'c', namespace: 'n', deployment: 'd' };
    await api.rollbackTraffic(odd, {
      cluster: 'c',
      namespace: 'n',
      service: 's',
    });
    await api.restartDeployment(odd, req);
    await api.undoDeployment(odd, req);
    expect(fetch.mock.calls.map((c: any) => c[0])).toEqual([
      'http://backend/api/rollouts/entity/component/team%20a/x%2Fy/traffic/rollback',
      'http://backend/api/rollouts/entity/component/team%20a/x%2Fy/deployments/restart',
      'http://backend/api/rollouts/entity/component/team%20a/x%2Fy/deployments/undo',
    ]);
  });

  it('turns an error response into a ResponseError with the server message', async () => {
    const { api } = client(() =>
      json(
        {
          error: {
            name: 'ConflictError',
            message: "Slot 'green' is not ready for traffic",
          },
          response: { statusCode: 409 },
        },
        409,
      ),
    );
    await expect(
      api.switchTraffic(entity, {
        cluster: 'local',
        namespace: 'n',
        service: 's',
        targetSlot: 'green',
      }),
    ).rejects.toMatchObject({
      name: 'ResponseError',
      statusCode: 409,
      body: { error: { message: "Slot 'green' is not ready for traffic" } },
    });
  });
});
