import {
  AuthService,
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { Entity } from '@backstage/catalog-model';
import { NotAllowedError, NotFoundError } from '@backstage/errors';
import { catalogEntityReadPermission } from '@backstage/plugin-catalog-common/alpha';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  AuthorizePermissionResponse,
  AuthorizeResult,
} from '@backstage/plugin-permission-common';
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
 * Fresh (as the writes always read): the catalog is asked with the caller's
 * credentials and enforces `catalog.entity.read` itself, while the status
 * permission is authorized alongside (two round trips, and the catalog makes
 * a third to the permission backend).
 *
 * Cached: the caller's `catalog.entity.read` on the entity is authorized in
 * the same batch as the status permission (one permission round trip, no
 * decision kept past the request), and only then does the entity come from an
 * {@link EntityCache} shared by all callers, filled with the plugin's own
 * credentials. An entity the caller may not read answers 404, as the catalog
 * would, without the plugin reading it on their behalf.
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
    if (options.fresh || !this.cache) {
      return this.readFresh(entityRef, credentials);
    }
    const [statusRead, entityRead] = await this.options.permissions.authorize(
      [
        { permission: rolloutsStatusReadPermission },
        { permission: catalogEntityReadPermission, resourceRef: entityRef },
      ],
      { credentials },
    );
    requireStatusRead(statusRead, entityRef);
    const entity =
      entityRead.result === AuthorizeResult.ALLOW
        ? await this.cache.get(entityRef)
        : undefined;
    if (!entity) {
      throw new NotFoundError(`Entity ${entityRef} not found`);
    }
    return entity;
  }

  private async readFresh(
    entityRef: string,
    credentials: BackstageCredentials,
  ): Promise<Entity> {
    // The decision and the entity are independent: fetch them at once. The
    // denial wins over a missing entity, so a denied caller cannot tell which
    // entities exist.
    const [decided, looked] = await Promise.allSettled([
      this.options.permissions.authorize(
        [{ permission: rolloutsStatusReadPermission }],
        { credentials },
      ),
      this.options.catalog.getEntityByRef(entityRef, { credentials }),
    ]);
    if (decided.status === 'rejected') throw decided.reason;
    requireStatusRead(decided.value[0], entityRef);
    if (looked.status === 'rejected') throw looked.reason;
    if (!looked.value) {
      throw new NotFoundError(`Entity ${entityRef} not found`);
    }
    return looked.value;
  }
}

function requireStatusRead(
  decision: AuthorizePermissionResponse,
  entityRef: string,
) {
  if (decision.result !== AuthorizeResult.ALLOW) {
    throw new NotAllowedError(
      `You are not allowed to ${rolloutsStatusReadPermission.name} on ${entityRef}`,
    );
  }
}
