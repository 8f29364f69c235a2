import {
  AuditorService,
  BackstageCredentials,
  HttpAuthService,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  AuthorizeResult,
  BasicPermission,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import { JsonObject } from '@backstage/types';
import {
  EntityRolloutsResponse,
  rolloutsDeploymentRestartPermission,
  rolloutsDeploymentUndoPermission,
  rolloutsStatusReadPermission,
  rolloutsTrafficSwitchPermission,
} from '@internal/plugin-rollouts-common';
import express, { Request } from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { ChangeNotifier } from './services/ChangeNotifier';
import { entitySelection, EntitySelection } from './services/entitySelection';
import { RolloutsService } from './services/RolloutsService';

/** @internal */
export interface RouterOptions {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  auditor: AuditorService;
  catalog: CatalogService;
  logger: LoggerService;
  service: RolloutsService;
  notifier?: ChangeNotifier;
}

const name = z.string().min(1).max(253);
const switchSchema = z.object({
  cluster: name,
  namespace: name,
  service: name,
  targetSlot: z.string().min(1).max(63),
  expectedCurrentSlot: z.string().min(1).max(63).optional(),
});
const rollbackSchema = switchSchema.omit({ targetSlot: true });
const deploymentSchema = z.object({
  cluster: name,
  namespace: name,
  deployment: name,
});
const undoSchema = deploymentSchema.extend({
  toRevision: z
    .string()
    .regex(/^\d+$/, 'toRevision must be a revision number')
    .optional(),
});

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    throw new InputError(
      `Invalid request body: ${result.error.issues
        .map(i => `${i.path.join('.') || 'body'}: ${i.message}`)
        .join('; ')}`,
    );
  }
  return result.data;
}

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

/** The HTTP API of the rollouts backend. @internal */
export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const { httpAuth, permissions, auditor, catalog, service, notifier } =
    options;
  const router = Router();
  router.use(express.json());

  const entityRefOf = (req: Request) =>
    stringifyEntityRef({
      kind: req.params.kind,
      namespace: req.params.namespace,
      name: req.params.name,
    });

  async function authorize(
    permission: BasicPermission | ResourcePermission,
    credentials: BackstageCredentials,
    entityRef: string,
  ) {
    const [decision] = await permissions.authorize(
      [
        'resourceType' in permission
          ? {
              permission: permission as ResourcePermission,
              resourceRef: entityRef,
            }
          : { permission: permission as BasicPermission },
      ],
      { credentials },
    );
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(
        `You are not allowed to ${permission.name} on ${entityRef}`,
      );
    }
  }

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

  router.get('/entity/:kind/:namespace/:name/status', async (req, res) => {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const entityRef = entityRefOf(req);
    // Two independent round trips (permission backend, catalog): run them at
    // once. The denial wins over a missing entity, so both orders answer alike.
    const [allowed, selected] = await Promise.allSettled([
      authorize(rolloutsStatusReadPermission, credentials, entityRef),
      selectionOf(entityRef, credentials),
    ]);
    if (allowed.status === 'rejected') throw allowed.reason;
    if (selected.status === 'rejected') throw selected.reason;
    const selection = selected.value;
    const response = service.getStatus(entityRef, selection);
    notifier?.track(entityRef, selection, namespacesOf(response));
    res.json(response);
  });

  /**
   * A write: user credentials only, an audit event that records success or
   * failure, the resource permission checked on the entity with the user's
   * credentials before anything touches a cluster.
   */
  function write<T extends JsonObject>(
    path: string,
    eventId: string,
    permission: ResourcePermission,
    schema: z.ZodType<T>,
    action: (selection: EntitySelection, body: T) => Promise<JsonObject>,
  ) {
    router.post(`/entity/:kind/:namespace/:name${path}`, async (req, res) => {
      const credentials = await httpAuth.credentials(req, { allow: ['user'] });
      const entityRef = entityRefOf(req);
      const event = await auditor.createEvent({
        eventId,
        severityLevel: 'medium',
        request: req,
        meta: { entityRef, request: (req.body ?? {}) as JsonObject },
      });
      try {
        const body = parse(schema, req.body);
        await authorize(permission, credentials, entityRef);
        const selection = await selectionOf(entityRef, credentials);
        const result = await action(selection, body);
        await event.success({ meta: { result } });
        res.json(result);
      } catch (error) {
        await event.fail({ error: error as Error });
        throw error;
      }
    });
  }

  write(
    '/traffic/switch',
    'traffic-switch',
    rolloutsTrafficSwitchPermission,
    switchSchema,
    async (selection, body) =>
      ({ ...(await service.switchTraffic(selection, body)) } as JsonObject),
  );
  write(
    '/traffic/rollback',
    'traffic-rollback',
    rolloutsTrafficSwitchPermission,
    rollbackSchema,
    async (selection, body) =>
      ({ ...(await service.rollbackTraffic(selection, body)) } as JsonObject),
  );
  write(
    '/deployments/restart',
    'deployment-restart',
    rolloutsDeploymentRestartPermission,
    deploymentSchema,
    async (selection, body) =>
      ({ ...(await service.restartDeployment(selection, body)) } as JsonObject),
  );
  write(
    '/deployments/undo',
    'deployment-undo',
    rolloutsDeploymentUndoPermission,
    undoSchema,
    async (selection, body) =>
      ({ ...(await service.undoDeployment(selection, body)) } as JsonObject),
  );

  return router;
}
