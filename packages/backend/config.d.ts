export interface Config {
  /** Settings of this portal's own backend modules. */
  portal?: {
    kubernetesProxy?: {
      /**
       * Groups (entity refs, e.g. `group:default/platform-team`) whose members
       * may use the Kubernetes plugin's proxy (`/api/kubernetes/proxy`), which
       * the Kubernetes tab uses for pod logs and events. Nobody else may.
       * The proxy's cluster identity is read-only either way.
       * @default []
       */
      allowedGroups?: string[];
    };
    kubernetesApply?: {
      /**
       * Groups (entity refs) whose members may run templates that apply manifests
       * to the cluster (`golden-path:kubernetes:apply`, permission
       * `golden-path.kubernetes.apply`). Nobody else may.
       * @default []
       */
      allowedGroups?: string[];
    };
  };
}
