import http from 'node:http';
import { AddressInfo } from 'node:net';
import {
  apiServerMessage,
  clusterConnector,
  KubeApiError,
  parseWarnings,
} from './clusterClient';

describe('parseWarnings', () => {
  it('reads the texts of Warning headers, unescaped', () => {
    expect(
      parseWarnings([
        '299 - "would violate PodSecurity \\"restricted:latest\\": runAsNonRoot != true"',
        '299 - "policy/v1beta1 PodDisruptionBudget is deprecated"',
      ]),
    ).toEqual([
      'would violate PodSecurity "restricted:latest": runAsNonRoot != true',
      'policy/v1beta1 PodDisruptionBudget is deprecated',
    ]);
    expect(parseWarnings(undefined)).toEqual([]);
  });
});

describe('apiServerMessage', () => {
  it("keeps the API server's message and adds causes it does not already say", () => {
    const error = new KubeApiError(
      422,
      {
        reason: 'Invalid',
        details: {
          causes: [
            { field: 'spec.replicas', message: 'Invalid value: -1' },
            { field: 'spec.selector', message: 'Required value' },
          ],
        },
      },
      'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1',
    );
    expect(apiServerMessage(error)).toBe(
      'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1; spec.selector: Required value [422 Invalid]',
    );
  });
});

/**
 * The HTTP side against a tiny local API server: what the actions send (server-side
 * apply, strict field validation, dry-run, the token) and how answers come back.
 */
describe('the cluster client over HTTP', () => {
  let server: http.Server;
  let requests: {
    method?: string;
    url?: string;
    headers: http.IncomingHttpHeaders;
    body: string;
  }[];
  let url: string;

  beforeEach(async () => {
    requests = [];
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', c => (body += c));
      req.on('end', () => {
        requests.push({
          method: req.method,
          url: req.url,
          headers: req.headers,
          body,
        });
        const send = (code: number, value: object, headers = {}) => {
          res.writeHead(code, {
            'Content-Type': 'application/json',
            ...headers,
          });
          res.end(JSON.stringify(value));
        };
        if (req.url === '/apis/apps/v1') {
          send(200, {
            resources: [
              { name: 'deployments', kind: 'Deployment', namespaced: true },
              { name: 'deployments/scale', kind: 'Scale', namespaced: true },
            ],
          });
        } else if (
          req.url?.startsWith('/apis/apps/v1/namespaces/shop/deployments/web')
        ) {
          send(200, JSON.parse(body), {
            Warning:
              '299 - "spec.template.spec.containers[0]: image uses :latest"',
          });
        } else if (
          req.url === '/apis/apps/v1/namespaces/shop/deployments/live' &&
          req.method === 'GET'
        ) {
          send(200, {
            kind: 'Deployment',
            metadata: { name: 'live', resourceVersion: '7' },
          });
        } else if (req.url === '/api/v1/namespaces/missing') {
          send(404, {
            kind: 'Status',
            reason: 'NotFound',
            message: 'namespaces "missing" not found',
          });
        } else {
          send(404, {
            kind: 'Status',
            reason: 'NotFound',
            message: `not found: ${req.url}`,
          });
        }
      });
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await new Promise(resolve => server.close(resolve));
  });

  const connect = () =>
    clusterConnector({
      connection: { url, skipTLSVerify: true, serviceAccountToken: 'sa-token' },
    })();

  it('server-side applies with the field manager, strict validation and dry-run', async () => {
    const cluster = await connect();
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { replicas: 1, misspelt: true },
    };
    const result = await cluster.apply(deployment, {
      fieldManager: 'backstage-golden-path',
      dryRun: true,
    });
    expect(result.warnings).toEqual([
      'spec.template.spec.containers[0]: image uses :latest',
    ]);
    const patch = requests.find(r => r.method === 'PATCH')!;
    expect(patch.url).toBe(
      '/apis/apps/v1/namespaces/shop/deployments/web?fieldManager=backstage-golden-path&fieldValidation=Strict&force=false&dryRun=All',
    );
    expect(patch.headers['content-type']).toBe('application/apply-patch+yaml');
    expect(patch.headers.authorization).toBe('Bearer sa-token');
    // Sent as rendered: a misspelt field reaches the API server, which rejects it.
    expect(JSON.parse(patch.body)).toEqual(deployment);
  });

  it('reports a kind the cluster does not serve, and an API version it does not', async () => {
    const cluster = await connect();
    await expect(cluster.kindInfo('apps/v1', 'DaemonSett')).rejects.toThrow(
      'the cluster serves apps/v1 but no kind DaemonSett in it (known: Deployment)',
    );
    await expect(
      cluster.kindInfo('kustomize.toolkit.fluxcd.io/v1', 'Kustomization'),
    ).rejects.toThrow(
      'the cluster does not serve apiVersion kustomize.toolkit.fluxcd.io/v1 (a custom resource whose CRD is not installed, or a removed API version)',
    );
  });

  it('reads one object of a discovered kind, and a missing one as undefined', async () => {
    const cluster = await connect();
    const ref = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'shop',
    };
    await expect(
      cluster.getObject({ ...ref, name: 'live' }),
    ).resolves.toMatchObject({ metadata: { resourceVersion: '7' } });
    await expect(
      cluster.getObject({ ...ref, name: 'gone' }),
    ).resolves.toBeUndefined();
    expect(requests.filter(r => r.method === 'GET').map(r => r.url)).toEqual([
      '/apis/apps/v1',
      '/apis/apps/v1/namespaces/shop/deployments/live',
      '/apis/apps/v1/namespaces/shop/deployments/gone',
    ]);
    // A kind the cluster does not serve is an error, not "absent".
    await expect(
      cluster.getObject({ ...ref, kind: 'Rollout', name: 'live' }),
    ).rejects.toThrow('the cluster serves apps/v1 but no kind Rollout in it');
  });

  it('reads a missing namespace as undefined', async () => {
    const cluster = await connect();
    await expect(cluster.getNamespace('missing')).resolves.toBeUndefined();
  });
});
