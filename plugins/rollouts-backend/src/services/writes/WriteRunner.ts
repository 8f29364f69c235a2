import {
  AuditorService,
  AuditorServiceEvent,
  HttpAuthService,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { ResourcePermission } from '@backstage/plugin-permission-common';
import { JsonObject } from '@backstage/types';
import { Request } from 'express';
import { z } from 'zod';
import { RolloutsClusterRegistry } from '../clusters/types';
import { WriteGuard } from './WriteGuard';

/**
 * One write the plugin offers: its route, audit event, permission, the body it
 * accepts, and the steps it runs through the {@link WriteGuard}.
 */
export interface WriteCommand<B extends object, R extends object> {
  /** Route below `/entity/:kind/:namespace/:name`. */
  path: string;
  eventId: string;
  /** Of the audit event; writes are `medium` (the default). */
  severityLevel?: 'low' | 'medium';
  permission: ResourcePermission;
  schema: z.ZodType<B>;
  run(guard: WriteGuard, body: B): Promise<R>;
}

export interface WriteRunnerOptions {
  httpAuth: HttpAuthService;
  auditor: AuditorService;
  permissions: PermissionsService;
  catalog: CatalogService;
  clusters: RolloutsClusterRegistry;
  logger: LoggerService;
}

/** Parses a body with a command's schema; the error names fields, never values. */
function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
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

/**
 * Runs write commands. The audit event comes first, so every attempt is
 * recorded, also one without credentials or with a service token; the event
 * records only the entity ref and the validated body, never the raw request.
 * Then: user credentials, the body, and the command's own guard steps.
 */
export class WriteRunner {
  constructor(private readonly options: WriteRunnerOptions) {}

  async run<B extends object, R extends object>(
    command: WriteCommand<B, R>,
    req: Request,
  ): Promise<R> {
    const entityRef = stringifyEntityRef({
      kind: req.params.kind,
      namespace: req.params.namespace,
      name: req.params.name,
    });
    const event = await this.startAudit(command, req, entityRef);
    let body: B | undefined;
    try {
      const credentials = await this.options.httpAuth.credentials(req, {
        allow: ['user'],
      });
      body = parseBody(command.schema, req.body);
      const guard = new WriteGuard({
        ...this.options,
        entityRef,
        credentials,
        header: name => req.header(name),
      });
      const result = await command.run(guard, body);
      await event.success({
        meta: { request: body as JsonObject, result: result as JsonObject },
      });
      return result;
    } catch (error) {
      await event.fail({
        error: error as Error,
        ...(body && { meta: { request: body as JsonObject } }),
      });
      throw error;
    }
  }

  private async startAudit(
    command: WriteCommand<object, object>,
    req: Request,
    entityRef: string,
  ): Promise<AuditorServiceEvent> {
    const base = {
      eventId: command.eventId,
      severityLevel: command.severityLevel ?? ('medium' as const),
    };
    try {
      return await this.options.auditor.createEvent({
        ...base,
        request: req,
        meta: { entityRef },
      });
    } catch {
      // The auditor reads the caller from the request and cannot when the
      // token is invalid or expired. The attempt is still recorded, without
      // an actor, and then fails authentication.
      return this.options.auditor.createEvent({
        ...base,
        meta: {
          entityRef,
          credentials: 'invalid',
          method: req.method,
          path: req.originalUrl,
          ...(req.ip && { ip: req.ip }),
        },
      });
    }
  }
}
