import { InputError } from '@backstage/errors';
import {
  checkOwnership,
  ENTITY_REF_ANNOTATION,
  KubeObject,
} from '@golden-path/plugin-rollouts-common';
import { objectName } from './renderManifests';

/** An RFC 1123 label: what the API server accepts as a namespace name. */
export const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Whether a kind's objects live in a namespace, per API discovery. */
export type ScopeOf = (object: KubeObject) => Promise<{ namespaced: boolean }>;

/**
 * Refuses a namespace the actions must never write to: Kubernetes' own (`kube-*`,
 * `default`), the configured ones, and names the API server would reject anyway.
 */
export function checkTargetNamespace(
  namespace: string,
  protectedNamespaces: string[],
): void {
  if (namespace.length > 63 || !NAMESPACE_NAME.test(namespace)) {
    throw new InputError(
      `namespace "${namespace}" is not a valid namespace name: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters`,
    );
  }
  if (
    namespace.startsWith('kube-') ||
    protectedNamespaces.includes(namespace)
  ) {
    throw new InputError(
      `namespace "${namespace}" is protected: the golden-path Kubernetes actions only write into a namespace of the template's own (protected: kube-*, ${protectedNamespaces.join(
        ', ',
      )})`,
    );
  }
}

/** The objects to apply, each placed in the template's namespace, or why not. */
export interface ScopedObjects {
  /** The Namespace object first, then the rest in the rendered order. */
  objects: KubeObject[];
  /** One sentence per object that may not be applied. */
  refusals: string[];
}

/**
 * Keeps every object inside the namespace the template owns: a namespaced object
 * without a namespace gets it (as `kubectl apply -n` does), one in another namespace is
 * refused, and so is every cluster-scoped object except that Namespace itself.
 * Discovery failures (a kind the cluster does not serve) are refusals too.
 */
export async function scopeToNamespace(
  rendered: KubeObject[],
  namespace: string,
  scopeOf: ScopeOf,
): Promise<ScopedObjects> {
  const refusals: string[] = [];
  const placed: KubeObject[] = [];
  const seen = new Set<string>();
  for (const object of rendered) {
    const name = objectName(object);
    const key = `${object.apiVersion} ${name} ${
      object.metadata?.namespace ?? ''
    }`;
    if (seen.has(key)) {
      refusals.push(`${name}: defined twice`);
      continue;
    }
    seen.add(key);
    if (object.kind === 'Namespace' && object.apiVersion === 'v1') {
      if (object.metadata?.name !== namespace) {
        refusals.push(
          `${name}: the template owns namespace ${namespace} only; it may not create or change other namespaces`,
        );
      } else {
        placed.unshift(object);
      }
      continue;
    }
    let namespaced: boolean;
    try {
      ({ namespaced } = await scopeOf(object));
    } catch (e) {
      refusals.push(`${name}: ${(e as Error).message}`);
      continue;
    }
    if (!namespaced) {
      refusals.push(
        `${name} is cluster-scoped: the golden-path actions apply only objects inside namespace ${namespace} (and that Namespace itself)`,
      );
      continue;
    }
    const own = object.metadata?.namespace;
    if (own !== undefined && own !== namespace) {
      refusals.push(
        `${name} is in namespace ${own}: the template owns namespace ${namespace} only`,
      );
      continue;
    }
    placed.push({
      ...object,
      metadata: { ...object.metadata, namespace },
    });
  }
  return { objects: placed, refusals };
}

/**
 * Whether the template may write into `namespace`, by what the cluster says: a namespace
 * that does not exist yet is the template's to create; an existing one must carry the
 * ownership annotation naming the template's entity, as the rollouts plugin requires
 * for its writes. Returns the sentence that refuses it, or undefined.
 */
export function namespaceOwnershipRefusal(
  existing: KubeObject | undefined,
  entityRef: string,
): string | undefined {
  if (!existing) return undefined;
  const check = checkOwnership(existing, entityRef);
  return check.owned
    ? undefined
    : `namespace ${existing.metadata?.name} already exists and is not ${entityRef}'s: ${check.reason} Choose another namespace, or have its owner annotate it.`;
}

/**
 * The Namespace to apply first: the template's own (or a bare one when the manifests have
 * none), marked as the entity's with the ownership annotation, and pinned to the
 * resourceVersion the ownership check saw when it exists already (server-side apply
 * refuses with 409 Conflict if it changed in between).
 */
export function ownedNamespaceObject(options: {
  namespace: string;
  entityRef: string;
  fromManifests: KubeObject | undefined;
  existing: KubeObject | undefined;
}): KubeObject {
  const base = options.fromManifests ?? {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: options.namespace },
  };
  return {
    ...base,
    metadata: {
      ...base.metadata,
      name: options.namespace,
      annotations: {
        ...base.metadata?.annotations,
        [ENTITY_REF_ANNOTATION]: options.entityRef,
      },
      ...(options.existing?.metadata?.resourceVersion && {
        resourceVersion: options.existing.metadata.resourceVersion,
      }),
    },
  };
}
