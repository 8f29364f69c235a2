import {
  BackstageCredentials,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  InputError,
  NotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  AuthorizeResult,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import {
  checkOwnership,
  JsonPatchOperation,
  kubernetesAuthHeader,
  KubeObject,
  OwnershipCheck,
  pinnedPatch,
  writeSelectorRefusal,
} from '@golden-path/plugin-rollouts-common';
import { toUserError, WriteIdentityKind } from '../clusters/kubeErrors';
import {
  ClusterWriter,
  RolloutsCluster,
  RolloutsClusterRegistry,
} from '../clusters/types';
import { entitySelection, EntitySelection, selects } from '../entitySelection';

/** A cluster ready for one write, with the identity the write uses. */
export interface WritableCluster {
  cluster: RolloutsCluster;
  api: ClusterWriter;
  identity: WriteIdentityKind;
}

/** What the cluster says about an object that a write may change. */
export interface BoundObject<T extends KubeObject> {
  object: T;
  /** The ownership annotation's value, pinned in the patch. */
  ownerAnnotation: string;
}

export interface WriteGuardOptions {
  entityRef: string;
  credentials: BackstageCredentials;
  /** Reads a request header (the user's Kubernetes credentials). */
  header: (name: string) => string | undefined;
  permissions: PermissionsService;
  catalog: CatalogService;
  clusters: RolloutsClusterRegistry;
  logger: LoggerService;
}

/**
 * The checks every write passes, as steps a command calls in order:
 *
 * 1. {@link WriteGuard.authorize}: the permission, decided with the user's own
 *    credentials on the entity, and the entity's selector (read with the same
 *    credentials), which must pin a label to a value;
 * 2. {@link WriteGuard.cluster}: a known, synced cluster of the entity, and the
 *    identity writes use there (the plugin's own, or the user's token);
 * 3. {@link WriteGuard.bind}: the object, read fresh from the API server, must
 *    carry the entity's labels AND name the entity in its ownership annotation:
 *    the cluster, not the catalog, grants write authority;
 * 4. {@link WriteGuard.patch}: the patch is pinned to that object's UID and
 *    ownership annotation, so a re-created or re-labelled object makes the API
 *    server reject it (409) with nothing written.
 *
 * Auditing wraps all of it (see WriteRunner): every attempt is recorded.
 */
export class WriteGuard {
  constructor(private readonly options: WriteGuardOptions) {}

  get entityRef() {
    return this.options.entityRef;
  }

  get logger() {
    return this.options.logger;
  }

  /** Step 1: may this user do this to this entity, and which objects are its? */
  async authorize(permission: ResourcePermission): Promise<EntitySelection> {
    const { permissions, catalog, credentials, entityRef } = this.options;
    const [decision] = await permissions.authorize(
      [{ permission, resourceRef: entityRef }],
      { credentials },
    );
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(
        `You are not allowed to ${permission.name} on ${entityRef}`,
      );
    }
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
    const refusal = writeSelectorRefusal(selection.labelSelector);
    if (refusal) {
      throw new InputError(
        `Entity ${entityRef} cannot be used for writes: ${refusal}. Use backstage.io/kubernetes-id or a selector such as app=my-service.`,
      );
    }
    return selection;
  }

  /** Step 2: the cluster, which must be the entity's, known and synced. */
  cluster(name: string, selection: EntitySelection): WritableCluster {
    if (selection.cluster && selection.cluster !== name) {
      throw new NotFoundError(
        `The entity is restricted to cluster '${selection.cluster}', not '${name}'`,
      );
    }
    const cluster = this.options.clusters.get(name);
    if (!cluster) {
      throw new NotFoundError(`Unknown cluster '${name}'`);
    }
    const health = cluster.health();
    if (health.state !== 'ok') {
      throw new ServiceUnavailableError(
        `Cluster '${name}' is ${
          health.state === 'syncing' ? 'still loading its cache' : 'unavailable'
        }${health.error ? `: ${health.error}` : ''}`,
      );
    }
    const access = cluster.writeAccess();
    if (access.mode === 'user') {
      return {
        cluster,
        api: cluster.writer(this.options.header(kubernetesAuthHeader(access))),
        identity: 'user',
      };
    }
    return { cluster, api: cluster.writer(), identity: 'plugin' };
  }

  /**
   * Step 3: the object as the API server has it now must belong to the entity:
   * its namespace and labels match the entity's selector, and its ownership
   * annotation names the entity.
   */
  async bind<T extends KubeObject>(
    target: WritableCluster,
    selection: EntitySelection,
    what: string,
    read: (api: ClusterWriter) => Promise<T>,
  ): Promise<BoundObject<T>> {
    const { object, ownership } = await this.inspect(
      target,
      selection,
      what,
      read,
    );
    if (!ownership.owned) {
      this.options.logger.warn('write refused: object not owned by entity', {
        entityRef: this.entityRef,
        cluster: target.cluster.name,
        object: what,
      });
      throw new NotAllowedError(ownership.reason);
    }
    return { object, ownerAnnotation: ownership.annotationValue };
  }

  /**
   * Step 3 for an object a check reports on rather than refuses at once: read
   * fresh, it must carry the entity's labels (404 otherwise); whether it names
   * the entity is returned. Bind it before changing it.
   */
  async inspect<T extends KubeObject>(
    target: WritableCluster,
    selection: EntitySelection,
    what: string,
    read: (api: ClusterWriter) => Promise<T>,
  ): Promise<{ object: T; ownership: OwnershipCheck }> {
    let object: T;
    try {
      object = await read(target.api);
    } catch (e) {
      throw this.kubernetesError(e, `Reading ${what}`, target);
    }
    if (!selects(selection, object)) {
      throw new NotFoundError(
        `${what} does not belong to this entity in cluster '${target.cluster.name}'`,
      );
    }
    return { object, ownership: checkOwnership(object, this.entityRef) };
  }

  /** Step 4: the change, pinned to the bound object. */
  async patch<T extends KubeObject>(
    target: WritableCluster,
    bound: BoundObject<KubeObject>,
    action: string,
    ops: JsonPatchOperation[],
    send: (api: ClusterWriter, patch: JsonPatchOperation[]) => Promise<T>,
  ): Promise<T> {
    const patch = pinnedPatch(
      bound.object,
      { annotationValue: bound.ownerAnnotation },
      ops,
    );
    try {
      return await send(target.api, patch);
    } catch (e) {
      throw this.kubernetesError(e, action, target);
    }
  }

  /** A Kubernetes API error as a safe message for the user (details logged). */
  kubernetesError(error: unknown, action: string, target: WritableCluster) {
    return toUserError(error, action, {
      logger: this.options.logger,
      identity: target.identity,
    });
  }
}
