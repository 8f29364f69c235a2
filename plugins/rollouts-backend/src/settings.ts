import { Config } from '@backstage/config';
import {
  DEFAULT_SLOT_LABEL,
  DEFAULT_SMOKE_TEST,
  SmokeTestSettings,
} from '@golden-path/plugin-rollouts-common';

/** Settings of the rollouts backend (from `rollouts.*` config). @public */
export interface RolloutsSettings {
  slotLabel: string;
  switchTimeoutMs: number;
  longInitialDelaySeconds: number;
  /** While a page is open, a keepalive signal goes out this often. */
  keepaliveIntervalMs: number;
  /** The smoke test of a switch target through the preview Service. */
  smokeTest: SmokeTestSettings & { timeoutMs: number };
  /** How often the scheduled scale-down task looks for due slots. */
  scaleDownCheckIntervalSeconds: number;
}

/** Default of `rollouts.scaleDownCheckSeconds`. */
export const DEFAULT_SCALE_DOWN_CHECK_SECONDS = 30;

/** Default of `rollouts.signalIntervalMs`. */
export const DEFAULT_SIGNAL_INTERVAL_MS = 500;

/** Default of `rollouts.keepaliveSeconds`. */
export const DEFAULT_KEEPALIVE_SECONDS = 15;

function positiveNumber(config: Config, key: string, fallback: number) {
  const value = config.getOptionalNumber(key) ?? fallback;
  if (!(value > 0)) {
    throw new Error(`${key} must be a positive number, got ${value}`);
  }
  return value;
}

/** Reads `rollouts.*` from app config. @public */
export function readRolloutsSettings(config: Config): RolloutsSettings {
  const keepaliveSeconds = positiveNumber(
    config,
    'rollouts.keepaliveSeconds',
    DEFAULT_KEEPALIVE_SECONDS,
  );
  if (keepaliveSeconds > 300) {
    throw new Error(
      `rollouts.keepaliveSeconds must be at most 300 (open pages fall back to polling after missing it), got ${keepaliveSeconds}`,
    );
  }
  return {
    slotLabel:
      config.getOptionalString('rollouts.slotLabel') ?? DEFAULT_SLOT_LABEL,
    switchTimeoutMs:
      positiveNumber(config, 'rollouts.switchTimeoutSeconds', 60) * 1000,
    longInitialDelaySeconds:
      config.getOptionalNumber('rollouts.longInitialDelaySeconds') ?? 30,
    keepaliveIntervalMs: keepaliveSeconds * 1000,
    smokeTest: readSmokeTest(config),
    scaleDownCheckIntervalSeconds: positiveNumber(
      config,
      'rollouts.scaleDownCheckSeconds',
      DEFAULT_SCALE_DOWN_CHECK_SECONDS,
    ),
  };
}

function readSmokeTest(config: Config): RolloutsSettings['smokeTest'] {
  const path =
    config.getOptionalString('rollouts.smokeTest.path') ??
    DEFAULT_SMOKE_TEST.path;
  if (!path.startsWith('/')) {
    throw new Error(
      `rollouts.smokeTest.path must start with '/', got '${path}'`,
    );
  }
  const requests =
    config.getOptionalNumber('rollouts.smokeTest.requests') ??
    DEFAULT_SMOKE_TEST.requests;
  if (!Number.isInteger(requests) || requests < 1 || requests > 50) {
    throw new Error(
      `rollouts.smokeTest.requests must be a whole number from 1 to 50, got ${requests}`,
    );
  }
  return {
    path,
    requests,
    timeoutMs:
      positiveNumber(config, 'rollouts.smokeTest.timeoutSeconds', 5) * 1000,
  };
}

/**
 * Reads `rollouts.signalIntervalMs`: at most one change signal per entity per
 * this interval (the first change of a burst goes out at once). Every signal
 * makes each open page reload the status, so this bounds that load.
 */
export function readSignalIntervalMs(config: Config): number {
  const value =
    config.getOptionalNumber('rollouts.signalIntervalMs') ??
    DEFAULT_SIGNAL_INTERVAL_MS;
  if (!Number.isInteger(value) || value < 0 || value > 60_000) {
    throw new Error(
      `rollouts.signalIntervalMs must be a whole number of milliseconds from 0 to 60000, got ${value}`,
    );
  }
  return value;
}

/** Default of `rollouts.entityCacheSeconds`. */
export const DEFAULT_ENTITY_CACHE_SECONDS = 5;

/**
 * Reads `rollouts.entityCacheSeconds` (in ms): how long the status route may
 * serve a catalog entity it has read, so a change to the entity (its
 * Kubernetes annotations, say) shows on the Rollouts tab within this bound.
 * 0 reads the entity from the catalog on every request. Permissions are
 * decided on every request either way; writes always read the entity fresh.
 */
export function readEntityCacheMs(config: Config): number {
  const value =
    config.getOptionalNumber('rollouts.entityCacheSeconds') ??
    DEFAULT_ENTITY_CACHE_SECONDS;
  if (!(value >= 0 && value <= 60)) {
    throw new Error(
      `rollouts.entityCacheSeconds must be a number of seconds from 0 to 60, got ${value}`,
    );
  }
  return value * 1000;
}
