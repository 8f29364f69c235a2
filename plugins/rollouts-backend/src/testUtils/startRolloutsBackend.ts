/*
 * A test backend with the rollouts plugin over a FakeCluster: the catalog,
 * permissions, auditor and signals are mocks the tests can inspect.
 */
import { DefaultAuditorService } from '@backstage/backend-defaults/auditor';
import type { AuditorEvent } from '@backstage/backend-defaults/auditor';
import {
  coreServices,
  createServiceFactory,
  SchedulerService,
  SchedulerServiceTaskFunction,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  ServiceMock,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { signalsServiceRef } from '@backstage/plugin-signals-node';
import type { Server } from 'node:http';
import request from 'supertest';
import { rolloutsPlugin } from '../plugin';
import { rolloutsClusterRegistryServiceRef } from '../services/clusters/serviceRef';
import { SCHEDULED_SCALE_DOWN_TASK_ID } from '../services/scaleDown/ScheduledScaleDownTask';
import { demoCluster, demoEntity, OWNER } from './demoCluster';
import { FakeCluster, FakeRegistry } from './FakeCluster';

export const STRANGER = 'user:default/stranger';
export const BASE = '/api/rollouts/entity/component/default/fastapi-demo';
export const asOwner = mockCredentials.user.header(OWNER);
export const asStranger = mockCredentials.user.header(STRANGER);

/**
 * One line of the audit log, as Backstage's own auditor writes it (it names
 * the actor from the request's credentials, or fails to).
 */
export type AuditRecord = AuditorEvent;

/** The audit log in short: who did what, how it ended, what it recorded. */
export function auditTrail(audits: AuditRecord[]) {
  return audits.map(a => ({
    eventId: a.eventId,
    status: a.status,
    actor: a.actor.actorId,
    meta: a.meta,
    ...(a.status === 'failed' && {
      error: (a as { error?: Error }).error?.name,
    }),
  }));
}

/** What a test gets from {@link startRolloutsBackend}. */
export interface RolloutsTestBackend {
  server: Server;
  cluster: FakeCluster;
  audits: AuditRecord[];
  authorize: jest.Mock;
  /** The catalog's `getEntityByRef`, with the entities as they are now. */
  getEntityByRef: jest.Mock;
  signals: { publish: jest.Mock };
  /** The scheduler the plugin registered its tasks with. */
  scheduler: ServiceMock<SchedulerService>;
  /** Runs the scheduled scale-down task once, as the scheduler would. */
  runScheduledScaleDown(): Promise<void>;
  post(
    path: string,
    authorization: string | undefined,
    body: object,
    headers?: Record<string, string>,
  ): request.Test;
}

/**
 * Starts the plugin. Permissions behave like the portal policy: every
 * signed-in user may read (unless `canRead` is false) and may read every
 * catalog entity (except the users in `hiddenFrom`); a write is allowed to
 * the owner of the entity it names (`spec.owner`), whoever that is.
 */
export async function startRolloutsBackend(
  options: {
    cluster?: FakeCluster;
    canRead?: boolean;
    /** Users whom `catalog.entity.read` is denied for every entity. */
    hiddenFrom?: string[];
    config?: object;
    /** Extra catalog entities (the demo entity and `no-kube` are always there). */
    entities?: Entity[];
    skipped?: { name: string; reason: string }[];
  } = {},
): Promise<RolloutsTestBackend> {
  const cluster = options.cluster ?? demoCluster();
  const entities: Entity[] = [
    demoEntity,
    { ...demoEntity, metadata: { name: 'no-kube', namespace: 'default' } },
    ...(options.entities ?? []),
  ];
  // Looked up on every call and copied, as the catalog answers over HTTP: a
  // test may change an entity and the plugin sees it on its next read.
  const getEntityByRef = jest.fn(async (ref: string) => {
    const found = [...entities]
      .reverse()
      .find(e => stringifyEntityRef(e) === ref);
    return found && structuredClone(found);
  });
  const ownerOf = new Map(
    entities.map(e => [stringifyEntityRef(e), e.spec?.owner]),
  );
  const audits: AuditRecord[] = [];
  const auditor = createServiceFactory({
    service: coreServices.auditor,
    deps: {
      auth: coreServices.auth,
      httpAuth: coreServices.httpAuth,
      plugin: coreServices.pluginMetadata,
    },
    factory: deps =>
      DefaultAuditorService.create(async event => {
        audits.push(event);
      }, deps),
  });
  const authorize = jest.fn(async (requests: any[], { credentials }: any) =>
    requests.map(r => {
      const user = credentials.principal.userEntityRef;
      if (r.permission.name === 'rollouts.status.read') {
        return {
          result:
            options.canRead === false
              ? AuthorizeResult.DENY
              : AuthorizeResult.ALLOW,
        };
      }
      if (r.permission.name === 'catalog.entity.read') {
        return {
          result: options.hiddenFrom?.includes(user)
            ? AuthorizeResult.DENY
            : AuthorizeResult.ALLOW,
        };
      }
      return {
        result:
          user !== undefined && ownerOf.get(r.resourceRef) === user
            ? AuthorizeResult.ALLOW
            : AuthorizeResult.DENY,
      };
    }),
  );
  const permissions = mockServices.permissions.mock({ authorize } as any);
  const signals = { publish: jest.fn(async () => {}) };
  // The plugin's scheduled tasks run when a test says so.
  const scheduledTasks = new Map<string, SchedulerServiceTaskFunction>();
  const scheduler = mockServices.scheduler.mock({
    scheduleTask: async task => {
      scheduledTasks.set(task.id, task.fn);
    },
  });
  const { server } = await startTestBackend({
    features: [
      rolloutsPlugin,
      scheduler.factory,
      catalogServiceMock.mock({ getEntityByRef }).factory,
      auditor,
      permissions.factory,
      mockServices.rootConfig.factory({
        data: { rollouts: { switchTimeoutSeconds: 2, ...options.config } },
      }),
      createServiceFactory({
        service: signalsServiceRef,
        deps: {},
        factory: () => signals,
      }),
      createServiceFactory({
        service: rolloutsClusterRegistryServiceRef,
        deps: {},
        factory: () => new FakeRegistry([cluster], options.skipped),
      }),
    ],
  });
  /** A write to the plugin's API with the given Authorization (and other) headers. */
  const post = (
    path: string,
    authorization: string | undefined,
    body: object,
    headers: Record<string, string> = {},
  ) => {
    const r = request(server)
      .post(path)
      .set({
        ...(authorization && { Authorization: authorization }),
        ...headers,
      });
    return r.send(body);
  };
  return {
    server: server as unknown as Server,
    cluster,
    audits,
    authorize,
    getEntityByRef,
    signals,
    scheduler,
    runScheduledScaleDown: async () => {
      await scheduledTasks.get(SCHEDULED_SCALE_DOWN_TASK_ID)!(
        new AbortController().signal,
      );
    },
    post,
  };
}
