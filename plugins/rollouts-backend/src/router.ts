import {
  BackstageCredentials,
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  EntityRolloutsResponse,
  rolloutsStatusReadPermission,
} from '@golden-path/plugin-rollouts-common';
import express from 'express';
import Router from 'express-promise-router';
import { ChangeNotifier } from './services/ChangeNotifier';
import { entitySelection, EntitySelection } from './services/entitySelection';
import { StatusService } from './services/status/StatusService';
import { WriteCommand, WriteRunner } from './services/writes/WriteRunner';

/** @internal */
export interface RouterOptions {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  catalog: CatalogService;
  status: StatusService;
  writes: WriteRunner;
  commands: WriteCommand<any, object>[];
  notifier?: ChangeNotifier;
}

/** Prefixes of the write routes, which audit even unauthenticated attempts. */
export const WRITE_ROUTE_PREFIXES = [
  '/entity/:kind/:namespace/:name/traffic',
  '/entity/:kind/:namespace/:name/deployments',
];

function namespacesOf(response: EntityRolloutsResponse) {
  const map = new Map<string, Set<string>>();
  for (const c of response.clusters) {
    map.set(
      c.cluster,
      new Set([
        ...c.deployments.map(d => d.namespace),
        ...c.blueGreen.map(b => b.namespace),
      ]),
    );
  }
  return map;
}

/** The HTTP API of the rollouts backend: one read route and the write commands. @internal */
export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const { httpAuth, permissions, catalog, status, writes, notifier } = options;
  const router = Router();
  router.use(express.json());

  async function selectionOf(
    entityRef: string,
    credentials: BackstageCredentials,
  ): Promise<EntitySelection> {
    const entity = await catalog.getEntityByRef(entityRef, { credentials });
    if (!entity) {
      throw new NotFoundError(`Entity ${entityRef} not found`);
    }
    const selection = entitySelection(entity);
    if (!selection) {
      throw new InputError(
        `Entity ${entityRef} has neither a backstage.io/kubernetes-id nor a backstage.io/kubernetes-label-selector annotation`,
      );
    }
    return selection;
  }

  async function authorizeRead(
    credentials: BackstageCredentials,
    entityRef: string,
  ) {
    const [decision] = await permissions.authorize(
      [{ permission: rolloutsStatusReadPermission }],
      { credentials },
    );
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(
        `You are not allowed to ${rolloutsStatusReadPermission.name} on ${entityRef}`,
      );
    }
  }

  router.get('/entity/:kind/:namespace/:name/status', async (req, res) => {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const entityRef = stringifyEntityRef({
      kind: req.params.kind,
      namespace: req.params.namespace,
      name: req.params.name,
    });
    // Two independent round trips (permission backend, catalog): run them at
    // once. The denial wins over a missing entity, so both orders answer alike.
    const [allowed, selected] = await Promise.allSettled([
      authorizeRead(credentials, entityRef),
      selectionOf(entityRef, credentials),
    ]);
    if (allowed.status === 'rejected') throw allowed.reason;
    if (selected.status === 'rejected') throw selected.reason;
    const response = status.getStatus(entityRef, selected.value);
    notifier?.track(entityRef, selected.value, namespacesOf(response));
    res.json(response);
  });

  for (const command of options.commands) {
    router.post(
      `/entity/:kind/:namespace/:name${command.path}`,
      async (req, res) => {
        res.json(await writes.run(command, req));
      },
    );
  }

  return router;
}
