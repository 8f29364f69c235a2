/*
 * Renders the Rollouts tab (or card) for the test entity with a fake rollouts
 * API, a permission decision and optionally fake signals.
 */
import { mockApis, renderInTestApp } from '@backstage/frontend-test-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { signalApiRef } from '@backstage/plugin-signals-react';
import { act } from '@testing-library/react';
import { rolloutsApiRef } from '../api';
import { entity, statusResponse } from './fixtures';

export function fakeSignals() {
  const listeners = new Map<string, (m: any) => void>();
  return {
    api: {
      subscribe: jest.fn((channel: string, onMessage: (m: any) => void) => {
        listeners.set(channel, onMessage);
        return { unsubscribe: () => listeners.delete(channel) };
      }),
    },
    emit(channel: string, message: object) {
      act(() => listeners.get(channel)?.(message));
    },
  };
}

export function renderRollouts(
  element: JSX.Element,
  options: {
    signals?: ReturnType<typeof fakeSignals>;
    allowed?: boolean;
    entityName?: string;
    /** The status the API answers; a rejected promise fails the load. */
    status?: () => ReturnType<typeof statusResponse> | Promise<never>;
  } = {},
) {
  const api = {
    getStatus: jest.fn(async () => (options.status ?? statusResponse)()),
    restartDeployment: jest.fn(async () => ({
      cluster: 'local',
      namespace: 'fastapi-demo',
      deployment: 'demo-api-blue',
      restartedAt: '2026-11-28T10:01:00Z',
    })),
    undoDeployment: jest.fn(async () => ({
      cluster: 'local',
      namespace: 'fastapi-demo',
      deployment: 'demo-api-blue',
      fromRevision: '4',
      toRevision: '3',
      skipped: false,
    })),
  };
  const authorize = jest.fn(async () => ({
    result:
      options.allowed === false ? AuthorizeResult.DENY : AuthorizeResult.ALLOW,
  }));
  const apis: any[] = [
    [rolloutsApiRef, api],
    mockApis.permission.mock({ authorize }),
  ];
  if (options.signals) apis.push([signalApiRef, options.signals.api]);
  // usePermission caches decisions per resourceRef across tests (SWR), so a
  // test that needs another decision uses another entity.
  const shown = options.entityName
    ? { ...entity, metadata: { ...entity.metadata, name: options.entityName } }
    : entity;
  renderInTestApp(<EntityProvider entity={shown}>{element}</EntityProvider>, {
    apis: apis as any,
  });
  return Object.assign(api, { authorize });
}
