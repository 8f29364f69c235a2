/*
 * Server-side apply with dryRun=All: the API server validates the full manifest
 * (schema, field validation, admission) without persisting anything. Invalid
 * manifests are rejected with the API server's own validation errors.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import {
  Clients,
  clients,
  createTestNamespace,
  deleteTestNamespace,
  expectApiError,
  rawRequest,
  restrictedPodTemplate,
} from './kube';

const FIELD_MANAGER = 'kube-integration-tests';
const apply = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

function manifest(name: string, spec: Record<string, unknown> = {}): any {
  const labels = { 'app.kubernetes.io/name': name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: restrictedPodTemplate(
        labels,
        'ghcr.io/example/fastapi-demo:1.0.0',
      ),
      ...spec,
    },
  };
}

describe('server-side apply dry-run validation', () => {
  let c: Clients;
  let ns: string;

  beforeAll(async () => {
    c = clients();
    ns = await createTestNamespace(c.core, 'ssa');
  });

  afterAll(async () => {
    if (ns) await deleteTestNamespace(c.core, ns);
  });

  const dryRunApply = (
    name: string,
    body: unknown,
    fieldValidation = 'Strict',
  ) =>
    c.apps.patchNamespacedDeployment(
      {
        namespace: ns,
        name,
        body,
        dryRun: 'All',
        fieldManager: FIELD_MANAGER,
        fieldValidation,
        force: true,
      },
      apply,
    );

  it('accepts a valid manifest but persists nothing', async () => {
    const result = await dryRunApply('valid', manifest('valid'));
    expect(result.metadata?.name).toBe('valid');
    expect(result.metadata?.managedFields?.[0]?.manager).toBe(FIELD_MANAGER);
    // Defaults were applied server-side...
    expect(result.spec?.strategy?.type).toBe('RollingUpdate');
    // ...but nothing was stored.
    const { code } = await expectApiError(() =>
      c.apps.readNamespacedDeployment({ namespace: ns, name: 'valid' }),
    );
    expect(code).toBe(404);
  });

  it('rejects an unknown field: apply always types the patch against the schema', async () => {
    const body = manifest('typo', { replicaz: 3 });
    for (const fieldValidation of ['Strict', 'Ignore']) {
      const { code, status } = await expectApiError(() =>
        dryRunApply('typo', body, fieldValidation),
      );
      // kube-apiserver answers 500 here today (kubernetes/kubernetes#122480, fix
      // proposed in #139255 turns it into 400); either way it is a rejection by the
      // server with its own schema error.
      expect([400, 500]).toContain(code);
      expect(status.message).toMatch(
        /^failed to create typed patch object \(.*\/typo; apps\/v1, Kind=Deployment\): \.spec\.replicaz: field not declared in schema$/,
      );
    }
  });

  it('fieldValidation=Strict rejects an unknown field on a dry-run create; Ignore drops it', async () => {
    // Sent raw: the typed client would drop the unknown field before sending it.
    const body = manifest('typo-create', { replicaz: 3 });
    const path = (fv: string) =>
      `/apis/apps/v1/namespaces/${ns}/deployments?dryRun=All&fieldValidation=${fv}`;

    const strict = await rawRequest(c.kc, 'POST', path('Strict'), body);
    expect(strict.code).toBe(400);
    expect(strict.body.reason).toBe('BadRequest');
    expect(strict.body.message).toContain(
      'strict decoding error: unknown field "spec.replicaz"',
    );

    const ignore = await rawRequest(c.kc, 'POST', path('Ignore'), body);
    expect(ignore.code).toBe(201);
    expect(ignore.body.metadata.name).toBe('typo-create');
    expect(ignore.body.spec.replicaz).toBeUndefined();
    // dryRun: nothing was stored.
    const get = await rawRequest(
      c.kc,
      'GET',
      `/apis/apps/v1/namespaces/${ns}/deployments/typo-create`,
    );
    expect(get.code).toBe(404);
  });

  it('rejects an invalid value with the API server validation error', async () => {
    const { code, status } = await expectApiError(() =>
      dryRunApply('negative', manifest('negative', { replicas: -1 })),
    );
    expect(code).toBe(422);
    expect(status.reason).toBe('Invalid');
    expect(status.message).toContain('Deployment.apps "negative" is invalid');
    expect(status.message).toMatch(
      /spec\.replicas: Invalid value: -1: must be greater than or equal to 0/,
    );
    expect(status.details?.causes?.some(x => x.field === 'spec.replicas')).toBe(
      true,
    );
  });

  it('rejects a selector that does not match the pod template labels', async () => {
    const bad = manifest('mismatch');
    bad.spec.selector = {
      matchLabels: { 'app.kubernetes.io/name': 'something-else' },
    };
    const { code, status } = await expectApiError(() =>
      dryRunApply('mismatch', bad),
    );
    expect(code).toBe(422);
    expect(status.message).toMatch(
      /spec\.template\.metadata\.labels: Invalid value: .*`selector` does not match template `labels`/,
    );
  });

  it('the rejection helper does not turn successes or client errors into passes', async () => {
    // A request that the API server accepts is reported as a failure of expectation...
    await expect(
      expectApiError(() => dryRunApply('valid2', manifest('valid2'))),
    ).rejects.toThrow(/succeeded/);
    // ...and a client-side error is not mistaken for an API server rejection.
    await expect(
      expectApiError(async () => {
        throw new TypeError('boom');
      }),
    ).rejects.toThrow(TypeError);
  });
});
