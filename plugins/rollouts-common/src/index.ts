/**
 * Shared types, permissions and pure logic of the rollouts plugin: rollout
 * status like `kubectl rollout status`, probe analysis, quota and HPA maths,
 * blue-green detection, switch planning and checks, the scheduled
 * scale-down of the slot left by a switch, and the GitOps environments Flux
 * reports.
 *
 * @packageDocumentation
 */

export * from './kube';
export * from './permissions';
export * from './quantity';
export * from './labelSelector';
export * from './rolloutStatus';
export * from './probes';
export * from './resources';
export * from './jsonPatch';
export * from './blueGreen';
export * from './switchChecks';
export * from './scaleDown';
export * from './scheduledScaleDown';
export * from './rolloutUndo';
export * from './rolloutRestart';
export * from './ownership';
export * from './environments';
export * from './summary';
export * from './api';
