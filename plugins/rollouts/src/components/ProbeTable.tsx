import { Flex } from '@backstage/ui';
import { DeploymentView, ProbeInfo } from '@golden-path/plugin-rollouts-common';
import { FindingsList, FullTable, SectionTitle, TextCell } from './common';

function worstCase(p: ProbeInfo): string {
  switch (p.kind) {
    case 'liveness':
      return `declared dead after ${p.worstCaseSeconds}s`;
    case 'readiness':
      return `ready within ${p.worstCaseSeconds}s, out of rotation after ${p.unreadyAfterSeconds}s of failures`;
    default:
      return `killed if not started after ${p.worstCaseSeconds}s`;
  }
}

/** Probes of a Deployment's containers, their worst cases and findings, plus live pod health. */
export function ProbeTable({ deployment }: { deployment: DeploymentView }) {
  const probeRows = deployment.probes.flatMap(c =>
    c.probes.map(p => ({
      id: `${c.container}-${p.kind}`,
      container: c.container,
      ...p,
    })),
  );
  const podRows = deployment.pods.flatMap(p =>
    p.containers.map(c => ({ id: `${p.pod}-${c.container}`, ...c })),
  );
  return (
    <Flex direction="column" gap="2">
      <SectionTitle>Probes of {deployment.name}</SectionTitle>
      <FullTable
        columns={[
          {
            id: 'container',
            label: 'Container',
            isRowHeader: true,
            cell: r => <TextCell title={r.container} description={r.kind} />,
          },
          {
            id: 'target',
            label: 'Check',
            cell: r => <TextCell title={r.target} />,
          },
          {
            id: 'timings',
            label: 'delay / period / timeout / success / failure',
            cell: r => (
              <TextCell
                title={`${r.timings.initialDelaySeconds}s / ${r.timings.periodSeconds}s / ${r.timings.timeoutSeconds}s / ${r.timings.successThreshold} / ${r.timings.failureThreshold}`}
                description={
                  r.defaulted.length
                    ? `defaults: ${r.defaulted.join(', ')}`
                    : undefined
                }
              />
            ),
          },
          {
            id: 'worst',
            label: 'Worst case',
            cell: r => <TextCell title={worstCase(r)} />,
          },
        ]}
        rows={probeRows}
        empty="No probes configured."
      />
      <FindingsList findings={deployment.findings} />
      <FullTable
        columns={[
          {
            id: 'pod',
            label: 'Pod',
            isRowHeader: true,
            cell: r => <TextCell title={r.pod} description={r.container} />,
          },
          {
            id: 'state',
            label: 'State',
            cell: r => (
              <TextCell
                title={`${r.state}${
                  r.waitingReason ? ` (${r.waitingReason})` : ''
                }`}
                description={`${r.ready ? 'ready' : 'not ready'}${
                  r.started === false ? ', not started' : ''
                }`}
              />
            ),
          },
          {
            id: 'restarts',
            label: 'Restarts',
            cell: r => <TextCell title={String(r.restartCount)} />,
          },
          {
            id: 'last',
            label: 'Last termination',
            cell: r => (
              <TextCell
                title={
                  r.lastTerminationReason
                    ? `${r.lastTerminationReason} (exit ${r.lastExitCode})`
                    : '—'
                }
              />
            ),
          },
        ]}
        rows={podRows}
        empty="No pods."
      />
    </Flex>
  );
}
