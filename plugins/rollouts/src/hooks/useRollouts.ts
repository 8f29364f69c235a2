import {
  getCompoundEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { useApi, useApiHolder } from '@backstage/frontend-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import { signalApiRef } from '@backstage/plugin-signals-react';
import {
  EntityRolloutsResponse,
  rolloutsSignalChannel,
  RolloutsSignal,
} from '@golden-path/plugin-rollouts-common';
import { useEffect, useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { rolloutsApiRef } from '../api';

/** Default poll interval when live updates are not available. */
export const DEFAULT_POLL_MS = 30_000;

/** Until the first status says otherwise, the backend's keepalive interval. */
const DEFAULT_KEEPALIVE_MS = 15_000;

/**
 * Missing this many keepalives in a row means the connection is down. More
 * than two, so one late keepalive on a busy backend does not flip the page.
 */
const MISSED_KEEPALIVES = 2.5;

/**
 * Even while live the page reloads this often: the backend stops signalling a
 * page nobody reloaded for 15 minutes, and a lost signal is caught up.
 */
export const LIVE_REFRESH_MS = 5 * 60_000;

/**
 * How the page stays fresh:
 * - `live`: signals arrive (a keepalive within the last 2.5 intervals);
 * - `connecting`: signals are installed but none arrived yet;
 * - `lost`: signals arrived before but stopped;
 * - `unavailable`: the portal has no signals plugin.
 * In every state but `live` the page polls.
 *
 * @public
 */
export type LiveUpdates = 'live' | 'connecting' | 'lost' | 'unavailable';

/** @public */
export interface UseRolloutsResult {
  value?: EntityRolloutsResponse;
  loading: boolean;
  error?: Error;
  refresh: () => void;
  liveUpdates: LiveUpdates;
  /** How often the page polls when not live. */
  pollMs: number;
}

/**
 * Loads the current entity's rollouts and keeps them fresh: the backend
 * signals `rollouts:<entityRef>` when one of its objects changes, and sends a
 * keepalive while the page is open. Without signals, or when they stop
 * arriving, the hook polls every `pollMs`.
 */
export function useRollouts(
  pollMs: number = DEFAULT_POLL_MS,
): UseRolloutsResult {
  const { entity } = useEntity();
  const api = useApi(rolloutsApiRef);
  const signalApi = useApiHolder().get(signalApiRef);
  const entityRef = stringifyEntityRef(entity);
  const [changes, setChanges] = useState(0);
  const [lastSignalAt, setLastSignalAt] = useState<number | undefined>();
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    if (!signalApi) return undefined;
    const subscription = signalApi.subscribe<RolloutsSignal>(
      rolloutsSignalChannel(entityRef),
      message => {
        setLastSignalAt(Date.now());
        // Every copy reloads, also a second replica's copy of one change: it
        // may come from the replica whose cache got the change after the
        // page's last read (a read is from memory, a missed change is not).
        if (message.type === 'changed') setChanges(c => c + 1);
      },
    );
    return () => subscription.unsubscribe();
  }, [signalApi, entityRef]);

  const state = useAsyncRetry(
    () => api.getStatus(getCompoundEntityRef(entity)),
    // A change signal means something changed: load again.
    [api, entityRef, changes],
  );
  const { retry } = state;

  const keepaliveMs =
    state.value?.liveUpdates?.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_MS;
  let liveUpdates: LiveUpdates;
  if (!signalApi) {
    liveUpdates = 'unavailable';
  } else if (lastSignalAt === undefined) {
    liveUpdates = 'connecting';
  } else {
    liveUpdates =
      now - lastSignalAt < keepaliveMs * MISSED_KEEPALIVES ? 'live' : 'lost';
  }

  // Re-evaluate the connection between signals (a dropped one sends nothing).
  useEffect(() => {
    if (!signalApi) return undefined;
    const timer = setInterval(() => setNow(Date.now()), keepaliveMs / 2);
    return () => clearInterval(timer);
  }, [signalApi, keepaliveMs]);

  const live = liveUpdates === 'live';
  useEffect(() => {
    const timer = setInterval(retry, live ? LIVE_REFRESH_MS : pollMs);
    return () => clearInterval(timer);
  }, [live, retry, pollMs]);

  return {
    value: state.value,
    loading: state.loading,
    error: state.error,
    refresh: retry,
    liveUpdates,
    pollMs,
  };
}
