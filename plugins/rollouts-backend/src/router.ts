import { HttpAuthService } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import { EntityRolloutsResponse } from '@golden-path/plugin-rollouts-common';
import express from 'express';
import Router from 'express-promise-router';
import { ChangeNotifier } from './services/ChangeNotifier';
import { StatusEntityReader } from './services/entityLookup/StatusEntityReader';
import { entitySelection } from './services/entitySelection';
import { StatusService } from './services/status/StatusService';
import { WriteCommand, WriteRunner } from './services/writes/WriteRunner';

/** @internal */
export interface RouterOptions {
  httpAuth: HttpAuthService;
  entities: StatusEntityReader;
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
  const { httpAuth, entities, status, writes, notifier } = options;
  const router = Router();
  router.use(express.json());

  router.get('/entity/:kind/:namespace/:name/status', async (req, res) => {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const entityRef = stringifyEntityRef({
      kind: req.params.kind,
      namespace: req.params.namespace,
      name: req.params.name,
    });
    // `Cache-Control: no-cache` asks for the entity as the catalog has it now.
    const fresh = /\bno-cache\b/i.test(req.header('cache-control') ?? '');
    const entity = await entities.read(entityRef, credentials, { fresh });
    const selection = entitySelection(entity);
    if (!selection) {
      throw new InputError(
        `Entity ${entityRef} has neither a backstage.io/kubernetes-id nor a backstage.io/kubernetes-label-selector annotation`,
      );
    }
    const response = status.getStatus(entityRef, selection);
    notifier?.track(entityRef, selection, namespacesOf(response));
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
