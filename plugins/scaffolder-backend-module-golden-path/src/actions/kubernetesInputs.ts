import { InputError } from '@backstage/errors';
import { canonicalEntityRef } from '@golden-path/plugin-rollouts-common';
import type { z as zod } from 'zod/v3';
import { NAMESPACE_NAME } from '../kubernetes/namespaceScope';

/**
 * Input fields the golden-path Kubernetes actions share, so a template passes the same
 * values to validate, apply and wait and each action explains them the same way.
 *
 * The scaffolder checks inputs against the JSON schema made from these (types, required
 * fields, patterns); the handlers repeat the checks that need a sentence to be clear
 * ({@link checkEntityRef}, `checkTargetNamespace`).
 */
export const kubernetesInputs = {
  namespace: (z: typeof zod) =>
    z
      .string()
      .regex(NAMESPACE_NAME)
      .max(63)
      .describe(
        'The namespace the template owns. Every object goes into it; objects in other namespaces, and cluster-scoped objects other than this Namespace, are refused. kube-*, default and the configured protected namespaces are refused.',
      ),
  entityRef: (z: typeof zod) =>
    z
      .string()
      .regex(/^[^:/\s]+:[^:/\s]+\/[^:/\s]+$/)
      .describe(
        'The catalog entity the objects belong to, as a full ref (component:default/<name>). An existing namespace must carry the annotation rollouts.backstage.io/entity-ref naming it; a new namespace gets it.',
      ),
  path: (z: typeof zod) =>
    z
      .string()
      .min(1)
      .describe(
        'A folder of manifests in the workspace, e.g. k8s or overlays/local: rendered with kubectl kustomize when it has a kustomization.yaml, otherwise every YAML/JSON file in it',
      ),
};

/** Refuses an entity ref that is not a full `kind:namespace/name`. */
export function checkEntityRef(entityRef: string): void {
  if (canonicalEntityRef(entityRef) === undefined) {
    throw new InputError(
      `entityRef "${entityRef}" is not a full entity ref: write kind:namespace/name, e.g. component:default/hello-web`,
    );
  }
}
