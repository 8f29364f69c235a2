import {
  AuthService,
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { Entity } from '@backstage/catalog-model';
import { NotAllowedError, NotFoundError } from '@backstage/errors';
import { catalogEntityReadPermission } from '@backstage/plugin-catalog-common/alpha';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { rolloutsStatusReadPermission } from '@golden-path/plugin-rollouts-common';
import { EntityCache } from './EntityCache';

export interface StatusEntityReaderOptions {
  auth: AuthService;
  permissions: PermissionsService;
  catalog: CatalogService;
  /** `rollouts.entityCacheSeconds` in ms; 0: every read is fresh. */
  entityCacheMs: number;
}

/**
 * The catalog entity behind a status request, after checking on every request
 * that the caller may read rollouts status and may read that entity.
 *
 * Fresh (as the writes always do): the catalog is asked with the caller's
 * credentials and enforces `catalog.entity.read` itself, while the status
 * permission is authorized alongside (two round trips, and the catalog makes
 * a third to the permission backend).
 *
 * Cached: the entity comes from an {@link EntityCache} shared by all callers,
 * filled with the plugin's own credentials, and the caller's
 * `catalog.entity.read` on that entity is authorized in the same batch as the
 * status permission: one permission round trip per request, no decision kept
 * past it, and an entity the caller may not read answers 404 as the catalog
 * would.
 */
export class StatusEntityReader {
  private readonly cache?: EntityCache;

  constructor(private readonly options: StatusEntityReaderOptions) {
    const { auth, catalog, entityCacheMs } = options;
    if (entityCacheMs > 0) {
      this.cache = new EntityCache({
        ttlMs: entityCacheMs,
        load: async entityRef =>
          catalog.getEntityByRef(entityRef, {
            credentials: await auth.getOwnServiceCredentials(),
          }),
      });
    }
  }

  async read(
    entityRef: string,
    credentials: BackstageCredentials,
    options: { fresh?: boolean } = {},
  ): Promise<Entity> {
    const { permissions, catalog } = this.options;
    const cache = options.fresh ? undefined : this.cache;
    // The decisions and the entity are independent: fetch them at once. The
    // status denial wins over anything the entity lookup says, so a denied
    // caller cannot tell which entities exist.
    const [decided, looked] = await Promise.allSettled([
      permissions.authorize(
        [
          { permission: rolloutsStatusReadPermission },
          ...(cache
            ? [
                {
                  permission: catalogEntityReadPermission,
                  resourceRef: entityRef,
                },
              ]
            : []),
        ],
        { credentials },
      ),
      cache
        ? cache.get(entityRef)
        : catalog.getEntityByRef(entityRef, { credentials }),
    ]);
    if (decided.status === 'rejected') throw decided.reason;
    const [statusRead, entityRead] = decided.value;
    if (statusRead.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(
        `You are not allowed to ${rolloutsStatusReadPermission.name} on ${entityRef}`,
      );
    }
    if (looked.status === 'rejected') throw looked.reason;
    const entity = looked.value;
    if (
      !entity ||
      (entityRead && entityRead.result !== AuthorizeResult.ALLOW)
    ) {
      throw new NotFoundError(`Entity ${entityRef} not found`);
    }
    return entity;
  }
}
