/**
 * The rollouts plugin's promise on Kubernetes API requests: an open page costs none;
 * the only requests are its informers keeping their watches open, one informer per
 * kind, cluster-wide (the portal configures no namespaces). Each re-opens its watch
 * when the server ends it, after the watch timeout of
 * plugins/rollouts-backend/src/services/clusters/InformerCluster.ts: 300 s, less up
 * to 20% jitter, so never sooner than 240 s after the last one.
 */
export const MIN_WATCH_SECONDS = 240;

/**
 * Most requests of one verb that informer upkeep can make in a window: each informer
 * re-opens its watch at most once per MIN_WATCH_SECONDS (plus one for a watch opened
 * before the window); a list only follows a re-opened watch the server refused as
 * too old (410 Gone), so at most as many lists.
 */
export function upkeepAllowance(
  windowSeconds: number,
  informers: number,
): number {
  return informers * (Math.floor(windowSeconds / MIN_WATCH_SECONDS) + 1);
}

/**
 * Requests per verb that informer upkeep does not explain: any other verb (a page
 * read through the API server, a write), or more watches or lists than
 * upkeepAllowance. Empty when the window holds upkeep only.
 */
export function beyondUpkeep(
  requestsByVerb: Record<string, number>,
  windowSeconds: number,
  informers: number,
): string[] {
  const allowance = upkeepAllowance(windowSeconds, informers);
  return Object.entries(requestsByVerb).flatMap(([verb, n]) => {
    if (verb !== 'watch' && verb !== 'list') {
      return [`${n} ${verb} request(s): upkeep only watches and relists`];
    }
    return n > allowance
      ? [
          `${n} ${verb} requests in ${windowSeconds} s: ${informers} informers' upkeep makes at most ${allowance}`,
        ]
      : [];
  });
}
