import {
  getCompoundEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { useApi } from '@backstage/frontend-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import { useSignal } from '@backstage/plugin-signals-react';
import {
  EntityRolloutsResponse,
  rolloutsSignalChannel,
  RolloutsSignal,
} from '@internal/plugin-rollouts-common';
import { useEffect } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { rolloutsApiRef } from '../api';

/** Poll interval when the signals plugin is not installed. */
export const FALLBACK_POLL_MS = 30_000;

/** @public */
export interface UseRolloutsResult {
  value?: EntityRolloutsResponse;
  loading: boolean;
  error?: Error;
  refresh: () => void;
  /** True when updates arrive as signals, false when polling. */
  live: boolean;
}

/**
 * Loads the current entity's rollouts and keeps them fresh: the backend signals
 * `rollouts:<entityRef>` when one of its objects changes; without the signals
 * plugin the hook polls slowly instead.
 */
export function useRollouts(
  pollMs: number = FALLBACK_POLL_MS,
): UseRolloutsResult {
  const { entity } = useEntity();
  const api = useApi(rolloutsApiRef);
  const entityRef = stringifyEntityRef(entity);
  const { lastSignal, isSignalsAvailable } = useSignal<RolloutsSignal>(
    rolloutsSignalChannel(entityRef),
  );
  const state = useAsyncRetry(
    () => api.getStatus(getCompoundEntityRef(entity)),
    // A new signal object means something changed: load again.
    [api, entityRef, lastSignal],
  );
  const { retry } = state;
  useEffect(() => {
    if (isSignalsAvailable) return undefined;
    const timer = setInterval(retry, pollMs);
    return () => clearInterval(timer);
  }, [isSignalsAvailable, retry, pollMs]);
  return {
    value: state.value,
    loading: state.loading,
    error: state.error,
    refresh: retry,
    live: isSignalsAvailable,
  };
}
