import { setTimeout as sleep } from 'node:timers/promises';
import { CustomErrorBase } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { ConnectCluster } from '../kubernetes/clusterClient';
import {
  BlockerTracker,
  DeploymentProgress,
  deploymentProgress,
  describeBlocker,
} from '../kubernetes/rolloutProgress';
import { kubernetesInputs } from './kubernetesInputs';
import { examples } from './kubernetesWait.examples';

/** A rollout that did not converge; the message names every reason seen. @public */
export class RolloutNotConvergedError extends CustomErrorBase {
  name = 'RolloutNotConvergedError' as const;
}

/** The task was cancelled while the action waited. @public */
export class WaitAbortedError extends CustomErrorBase {
  name = 'WaitAbortedError' as const;
}

/**
 * The failure, headed by every reason the current blockers showed while they lasted
 * (an image that cannot be pulled shows ErrImagePull and ImagePullBackOff in turn).
 */
function notConverged(
  headline: string,
  progress: DeploymentProgress[],
  missing: string[],
  blockers: BlockerTracker,
): RolloutNotConvergedError {
  const reasons = blockers.reasonsOf(progress);
  const lines = [
    ...progress.flatMap(p => p.blockers.map(b => describeBlocker(p.name, b))),
    ...progress.filter(p => !p.status.complete).map(p => p.status.message),
    ...missing.map(name => `deployment/${name} does not exist`),
  ];
  return new RolloutNotConvergedError(
    `${headline}${reasons.length ? `: ${reasons.join(', ')}` : ''}\n${lines
      .map(l => `- ${l}`)
      .join('\n')}`,
  );
}

/**
 * `golden-path:kubernetes:wait` waits until the Deployments of a namespace are rolled
 * out, with `kubectl rollout status` semantics (the rollouts plugin's
 * `deriveRolloutStatus`), logging each change of progress to the task log. It fails with
 * the reason when a rollout does not converge: a passed progress deadline at once;
 * ImagePullBackOff / ErrImagePull, CrashLoopBackOff, an exceeded quota or other pod
 * creation failures once they have persisted for `failFastAfterSeconds`; and whatever is
 * still pending when `timeoutSeconds` ends. Cancelling the task stops the wait.
 *
 * @public
 */
export function createKubernetesWaitAction(options: {
  connect: ConnectCluster;
  /** How often the Deployments are read (default 2 s). */
  pollIntervalMs?: number;
  /** The clock timeouts are measured with (tests move it by hand). */
  now?: () => number;
}) {
  const { connect, pollIntervalMs = 2000, now: clock = Date.now } = options;

  return createTemplateAction({
    id: 'golden-path:kubernetes:wait',
    description:
      "Waits until the namespace's Deployments are rolled out (kubectl rollout status semantics), streaming progress to the task log; fails with the reason (ImagePullBackOff, CrashLoopBackOff, exceeded quota, progress deadline) when they do not converge.",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        namespace: kubernetesInputs.namespace,
        deployments: z =>
          z
            .array(z.string().min(1))
            .optional()
            .describe(
              'The Deployments to wait for (default: every Deployment in the namespace, waiting for at least one to appear)',
            ),
        timeoutSeconds: z =>
          z
            .number()
            .positive('timeoutSeconds must be more than 0')
            .max(3600, 'timeoutSeconds is at most 3600 (one hour)')
            .default(300)
            .describe('How long to wait for the rollouts in all (default 300)'),
        failFastAfterSeconds: z =>
          z
            .number()
            .min(0, 'failFastAfterSeconds must be 0 or more')
            .default(60)
            .describe(
              'Fail before the timeout once the same blocker (ImagePullBackOff, CrashLoopBackOff, exceeded quota) has persisted this long (default 60; 0 fails at first sight)',
            ),
      },
      output: {
        deployments: z =>
          z.array(z.string()).describe('The Deployments that rolled out'),
      },
    },
    async handler(ctx) {
      const { namespace, deployments: names } = ctx.input;
      const timeoutMs = (ctx.input.timeoutSeconds ?? 300) * 1000;
      const failFastMs = (ctx.input.failFastAfterSeconds ?? 60) * 1000;
      const which = names?.length
        ? names.map(n => `deployment/${n}`).join(', ')
        : 'every Deployment';
      if (ctx.isDryRun) {
        ctx.logger.info(
          `Dry run: would wait up to ${
            timeoutMs / 1000
          } s for ${which} in namespace ${namespace} to roll out; nothing was applied, so nothing to wait for.`,
        );
        ctx.output('deployments', []);
        return;
      }
      const cluster = await connect();
      const signal = ctx.signal;
      const started = clock();
      const deadline = started + timeoutMs;
      const lastMessage = new Map<string, string>();
      const blockers = new BlockerTracker();
      ctx.logger.info(
        `Waiting up to ${
          timeoutMs / 1000
        } s for ${which} in namespace ${namespace} to roll out`,
      );

      try {
        for (;;) {
          signal?.throwIfAborted();
          const [all, replicaSets, pods] = await Promise.all([
            cluster.listDeployments(namespace, signal),
            cluster.listReplicaSets(namespace, signal),
            cluster.listPods(namespace, signal),
          ]);
          const targets = names?.length
            ? all.filter(d => names.includes(d.metadata?.name ?? ''))
            : all;
          const missing = names?.length
            ? names.filter(n => !all.some(d => d.metadata?.name === n))
            : [];
          const progress = targets.map(d =>
            deploymentProgress(d, replicaSets, pods),
          );
          const now = clock();

          for (const p of progress) {
            if (lastMessage.get(p.name) !== p.status.message) {
              lastMessage.set(p.name, p.status.message);
              ctx.logger.info(p.status.message);
            }
          }
          blockers
            .observe(progress, now)
            .forEach(line => ctx.logger.warn(line));

          if (
            targets.length > 0 &&
            missing.length === 0 &&
            progress.every(p => p.status.complete)
          ) {
            const done = progress.map(p => p.name);
            ctx.logger.info(
              `Rolled out in ${Math.round((now - started) / 1000)} s: ${done
                .map(n => `deployment/${n}`)
                .join(', ')}`,
            );
            ctx.output('deployments', done);
            return;
          }
          const failed = progress.filter(p => p.status.phase === 'failed');
          if (failed.length > 0) {
            throw notConverged(
              `${failed
                .map(p => `deployment/${p.name}`)
                .join(
                  ', ',
                )} exceeded the progress deadline in namespace ${namespace}`,
              progress,
              missing,
              blockers,
            );
          }
          const persistent = blockers.persistent(progress, now, failFastMs);
          if (persistent.length > 0) {
            throw notConverged(
              `${persistent
                .map(p => `deployment/${p.name}`)
                .join(', ')} cannot roll out in namespace ${namespace}`,
              progress,
              missing,
              blockers,
            );
          }
          if (now >= deadline) {
            throw notConverged(
              targets.length === 0 && missing.length === 0
                ? `No Deployment appeared in namespace ${namespace} within ${
                    timeoutMs / 1000
                  } s`
                : `Not rolled out within ${
                    timeoutMs / 1000
                  } s in namespace ${namespace}`,
              progress,
              missing,
              blockers,
            );
          }
          await sleep(Math.min(pollIntervalMs, deadline - now), undefined, {
            signal,
          });
        }
      } catch (e) {
        if (signal?.aborted) {
          throw new WaitAbortedError(
            `Stopped waiting for ${which} in namespace ${namespace}: the task was cancelled after ${Math.round(
              (clock() - started) / 1000,
            )} s. The objects stay as they are.`,
          );
        }
        throw e;
      }
    },
  });
}
