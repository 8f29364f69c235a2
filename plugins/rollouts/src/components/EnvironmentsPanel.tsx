import { Cell, Flex, Link, Text } from '@backstage/ui';
import {
  ClusterEnvironments,
  EnvironmentView,
  FluxReadiness,
} from '@golden-path/plugin-rollouts-common';
import {
  digestWarning,
  FLUX_STATE_LABEL,
  FLUX_STATE_TONE,
  fluxUnavailableText,
  promotionPullRequestsUrl,
  shortDigest,
  shortRevision,
} from './environmentsText';
import { FullTable, SectionTitle, TextCell } from './common';
import { ToneLabel } from './StateLabel';

/** Flux's state as a coloured pill; the full message on hover. */
function FluxChip({ flux }: { flux: FluxReadiness }) {
  const label = FLUX_STATE_LABEL[flux.state];
  return (
    <ToneLabel tone={FLUX_STATE_TONE[flux.state]} title={flux.message}>
      {flux.reason ? `${label} · ${flux.reason}` : label}
    </ToneLabel>
  );
}

function FluxCell({ env }: { env: EnvironmentView }) {
  return (
    <Cell>
      <Flex direction="column" gap="1">
        <FluxChip flux={env.flux} />
        {/* A failure's message is what to act on: shown, not only on hover. */}
        {env.flux.state === 'not-ready' && env.flux.message && (
          <Text variant="body-small" weight="bold">
            {env.flux.message}
          </Text>
        )}
      </Flex>
    </Cell>
  );
}

function RevisionCell({ env }: { env: EnvironmentView }) {
  const { applied, attempted, newRevision } = env.revision;
  return (
    <Cell>
      <Flex direction="column" gap="1">
        <Text title={applied}>{applied ? shortRevision(applied) : '—'}</Text>
        {newRevision && attempted && (
          <Text
            variant="body-small"
            weight={newRevision === 'failing' ? 'bold' : 'regular'}
            title={attempted}
          >
            {newRevision === 'failing'
              ? `${shortRevision(
                  attempted,
                )} failed; the last healthy revision's pods may still serve`
              : `${shortRevision(attempted)} being applied`}
          </Text>
        )}
      </Flex>
    </Cell>
  );
}

function DigestCell({ env }: { env: EnvironmentView }) {
  const containers = env.workloads.flatMap(w => w.containers);
  if (containers.length === 0) {
    return (
      <TextCell
        title="—"
        description={
          env.workloadsFrom === 'none'
            ? 'Flux reported no inventory yet'
            : 'No Deployment of this entity'
        }
      />
    );
  }
  return (
    <Cell>
      <Flex direction="column" gap="1">
        {containers.map((c, i) => {
          const warning = digestWarning(c);
          return (
            <Flex key={`${c.name}-${i}`} direction="column" gap="0">
              <Text title={c.image}>
                {c.digest ? shortDigest(c.digest) : c.image}
              </Text>
              {warning && (
                <Text
                  variant="body-small"
                  weight="bold"
                  title={c.running.join('\n')}
                >
                  {warning}
                </Text>
              )}
            </Flex>
          );
        })}
      </Flex>
    </Cell>
  );
}

function readyText(env: EnvironmentView): string {
  if (env.workloads.length === 0) return '—';
  const ready = env.workloads.reduce((n, w) => n + w.ready, 0);
  const desired = env.workloads.reduce((n, w) => n + w.desired, 0);
  return `${ready}/${desired}`;
}

/**
 * The entity's GitOps environments in one cluster: what Flux applied to each
 * (revision, digest), whether it is healthy, and whether the pods run what
 * Git names. Promotion stays in Git: the panel links to the pull requests.
 */
export function EnvironmentsPanel(props: {
  gitops: ClusterEnvironments | undefined;
  /** The entity's `backstage.io/source-location` annotation. */
  sourceLocation?: string;
}) {
  const { gitops } = props;
  if (!gitops) return null;
  if (gitops.environments.length === 0) {
    const why = fluxUnavailableText(gitops.flux);
    return why ? (
      <Text variant="body-small" color="secondary">
        GitOps environments: {why}
      </Text>
    ) : null;
  }
  const pullRequests = promotionPullRequestsUrl(props.sourceLocation);
  return (
    <Flex direction="column" gap="2">
      <Flex justify="between" align="center">
        <SectionTitle>Environments</SectionTitle>
        {pullRequests && (
          <Link href={pullRequests} target="_blank" rel="noopener noreferrer">
            Promotion pull requests
          </Link>
        )}
      </Flex>
      <Text variant="body-small" color="secondary">
        Promoting to an environment is a pull request in Git; merging it
        deploys.
      </Text>
      <FullTable
        columns={[
          {
            id: 'environment',
            label: 'Environment',
            isRowHeader: true,
            cell: env => (
              <TextCell
                title={env.name}
                description={`Kustomization ${env.kustomization.namespace}/${env.kustomization.name}`}
              />
            ),
          },
          {
            id: 'flux',
            label: 'Flux',
            cell: env => <FluxCell env={env} />,
          },
          {
            id: 'revision',
            label: 'Revision',
            cell: env => <RevisionCell env={env} />,
          },
          {
            id: 'digest',
            label: 'Digest',
            cell: env => <DigestCell env={env} />,
          },
          {
            id: 'ready',
            label: 'Ready',
            cell: env => <TextCell title={readyText(env)} />,
          },
        ]}
        rows={gitops.environments.map(env => ({
          id: `${env.kustomization.namespace}/${env.kustomization.name}`,
          ...env,
        }))}
      />
    </Flex>
  );
}
