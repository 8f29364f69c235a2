export interface Config {
  /** Settings of the Golden Path Portal's scaffolder actions. */
  goldenPath?: {
    /**
     * Skeletons root of `golden-path:fetch:skeleton`, relative to the backend's
     * working directory.
     * @default ../../fastapi-skeletons
     */
    skeletonsDir?: string;
    /**
     * The cluster of `golden-path:kubernetes:validate`, `:apply` and `:wait`, and the
     * actions' own identity in it. Without `url` and a token the portal still starts;
     * a task that uses the actions fails naming the keys to set.
     */
    kubernetes?: {
      /** The API server, e.g. https://127.0.0.1:6443. */
      url?: string;
      /** Base64 PEM of the cluster CA. */
      caData?: string;
      /** A file holding the cluster CA (PEM). */
      caFile?: string;
      /** Do not verify the API server's certificate (never in production). */
      skipTLSVerify?: boolean;
      /**
       * A ServiceAccount token of the actions' own (not the Kubernetes plugin's
       * read-only one).
       * @visibility secret
       */
      serviceAccountToken?: string;
      /** A file holding the token, re-read by every task (a projected or Secret volume). */
      serviceAccountTokenFile?: string;
      /**
       * The field manager of every server-side apply.
       * @default backstage-golden-path
       */
      fieldManager?: string;
      /**
       * Namespaces never written to, on top of default and kube-*.
       */
      protectedNamespaces?: string[];
      /**
       * An empty namespace where validate dry-runs the objects of a namespace that does
       * not exist yet. Nothing is ever stored in it.
       * @default golden-path-dry-run
       */
      dryRunNamespace?: string;
      /**
       * tools/manifest-checks/check.sh, relative to the backend's working directory.
       * @default ../../tools/manifest-checks/check.sh
       */
      manifestChecksScript?: string;
    };
    /** `golden-path:flux:register`: where Flux's objects go and how it fetches. */
    flux?: {
      /**
       * Where the GitRepository and Kustomization go (where Flux looks).
       * @default flux-system
       */
      namespace?: string;
      /** The ServiceAccount (in `namespace`) kustomize-controller applies as; unset: Flux's default. */
      serviceAccountName?: string;
      /** The basic-auth Secret (in `namespace`) Flux fetches each Git host with. */
      gitCredentials?: Array<{
        /** A Git host as in the repository URL, e.g. `github.com` or `127.0.0.1:3300`. */
        host: string;
        /** The Secret's name. */
        secretName: string;
      }>;
    };
    /** `golden-path:local:build-images`, for a local cluster only. */
    localImages?: {
      /** The local cluster's kubeconfig; unset, the action refuses. */
      kubeconfig?: string;
      /**
       * The build script, relative to the backend's working directory.
       * @default ../../platform/local-repo.sh
       */
      script?: string;
    };
  };
}
