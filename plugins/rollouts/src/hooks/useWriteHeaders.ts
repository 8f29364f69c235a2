import { useApiHolder } from '@backstage/frontend-plugin-api';
import { kubernetesAuthProvidersApiRef } from '@backstage/plugin-kubernetes-react';
import {
  ClusterWriteAccess,
  kubernetesAuthHeader,
} from '@golden-path/plugin-rollouts-common';
import { useCallback } from 'react';

/**
 * Headers a write to a cluster needs: none where writes use the rollouts
 * plugin's own identity; the user's own Kubernetes token (from the Kubernetes
 * plugin's sign-in, as its proxy requests carry it) where the cluster signs
 * users in.
 */
export function useWriteHeaders(): (
  access: ClusterWriteAccess,
) => Promise<Record<string, string>> {
  const apis = useApiHolder();
  return useCallback(
    async (access: ClusterWriteAccess) => {
      if (access.mode !== 'user') {
        return {};
      }
      const providers = apis.get(kubernetesAuthProvidersApiRef);
      if (!providers) {
        throw new Error(
          `Writes to this cluster use your own Kubernetes credentials (${access.authProvider}), and this portal has no Kubernetes sign-in (install the Kubernetes plugin).`,
        );
      }
      const { token } = await providers.getCredentials(
        access.authProvider === 'oidc'
          ? `oidc.${access.oidcTokenProvider}`
          : access.authProvider,
      );
      if (!token) {
        throw new Error(
          `Sign in to ${access.authProvider} to change this cluster: writes use your own Kubernetes credentials.`,
        );
      }
      return { [kubernetesAuthHeader(access)]: token };
    },
    [apis],
  );
}
