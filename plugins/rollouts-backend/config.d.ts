export interface Config {
  /** Settings of the rollouts plugin. Clusters come from `kubernetes.clusterLocatorMethods`. */
  rollouts?: {
    /**
     * Label whose value names the slot of a blue-green pair.
     * @default app.kubernetes.io/slot
     */
    slotLabel?: string;
    /**
     * How long a switch waits for the Service's EndpointSlices to point at the
     * new slot before answering (the switch itself is done either way).
     * @default 60
     */
    switchTimeoutSeconds?: number;
    /**
     * A liveness probe whose initialDelaySeconds is above this, without a
     * startup probe, gets a finding.
     * @default 30
     */
    longInitialDelaySeconds?: number;
    /**
     * At most one change signal per entity per this many milliseconds; the
     * first change of a burst is sent at once. Each signal makes every open
     * page of the entity reload its status (no Kubernetes API call).
     * @default 500
     */
    signalIntervalMs?: number;
    /**
     * How long the status route may serve a catalog entity it read (shared by
     * all users, read with the plugin's own credentials), so a change to the
     * entity shows on the Rollouts tab within this many seconds. Every request
     * still authorizes the user's `rollouts.status.read` and
     * `catalog.entity.read` on that entity; writes always read it fresh. 0
     * reads the entity from the catalog with the user's credentials on every
     * request.
     * @default 5
     */
    entityCacheSeconds?: number;
    /**
     * Watch only these namespaces (one informer per kind and namespace), for
     * clusters where the plugin's identity may not list cluster-wide.
     * Default: all namespaces.
     */
    namespaces?: string[];
    /**
     * While an entity page is open, a keepalive signal goes to it this often;
     * a page that misses 2.5 of them says live updates stopped and polls.
     * @default 15
     */
    keepaliveSeconds?: number;
    /**
     * The smoke test a switch runs against its target through the pair's
     * preview Service (the API server's service proxy), as
     * scripts/bg-switch.sh does: `requests` GETs of `path`, each must answer
     * 200 with the target's version.
     */
    smokeTest?: {
      /** @default /health */
      path?: string;
      /** @default 5 */
      requests?: number;
      /** Per request. @default 5 */
      timeoutSeconds?: number;
    };
    /**
     * How often the scheduled task looks for slots whose delayed scale-down
     * (a switch's `scaleDownDelaySeconds`) is due.
     * @default 30
     */
    scaleDownCheckSeconds?: number;
    /**
     * The rollouts plugin's own identity per cluster (the cluster's `name` in
     * `kubernetes.clusterLocatorMethods`). It reads the cache and makes every
     * write, so the Kubernetes plugin's identity can stay read-only. A cluster
     * without an entry is shown read-only (writes disabled), except clusters
     * that sign users in (google, oidc, aks), where writes use the user's own
     * Kubernetes token.
     */
    clusters?: Array<{
      name: string;
      /**
       * A ServiceAccount token.
       * @visibility secret
       */
      serviceAccountToken?: string;
      /** A file holding the token (re-read as it rotates), e.g. a mounted Secret. */
      serviceAccountTokenFile?: string;
    }>;
  };
}
