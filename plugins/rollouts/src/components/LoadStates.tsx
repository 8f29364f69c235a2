import { Alert, Button, Flex, Skeleton, VisuallyHidden } from '@backstage/ui';
import { errorMessage } from './common';

/** The tab's first load: the summary's shape, announced to screen readers. */
export function LoadingRollouts() {
  return (
    <div role="status" aria-live="polite">
      <VisuallyHidden>Loading rollouts…</VisuallyHidden>
      <Flex direction="column" gap="2" aria-hidden>
        <Skeleton width="40%" height={24} />
        <Skeleton width="100%" height={48} />
        <Skeleton width="100%" height={48} />
        <Skeleton width="100%" height={160} />
      </Flex>
    </div>
  );
}

/** The first load failed: what happened, what to do, and a retry. */
export function RolloutsLoadError(props: {
  error?: Error;
  onRetry: () => void;
}) {
  return (
    <Alert
      status="danger"
      title="Could not load rollouts"
      description={
        <>
          {props.error
            ? `${errorMessage(props.error).replace(/\.$/, '')}. `
            : ''}
          Retry in a moment; if it keeps failing, check that the rollouts
          backend plugin is installed and running (its logs say why), and that
          you are signed in.
        </>
      }
      customActions={
        <Button size="small" variant="secondary" onPress={props.onRetry}>
          Retry
        </Button>
      }
    />
  );
}

/** The portal reads no cluster at all. */
export function NoClusters() {
  return (
    <Alert
      status="info"
      title="No cluster configured"
      description="Add clusters under kubernetes.clusterLocatorMethods in app-config."
    />
  );
}
