/**
 * What the course brief requires each template to generate, by file name, plus the
 * files every generated repository has. Paths are relative to the repository root.
 */
export const COMMON_FILES = [
  'catalog-info.yaml',
  'mkdocs.yml',
  'docs/index.md',
  'k8s/kustomization.yaml',
];

export const BRIEF_DELIVERABLES: Record<string, string[]> = {
  'fastapi-static-web': [
    'k8s/deployment.yaml',
    'k8s/configmap.yaml',
    'k8s/service.yaml',
    'scripts/verify.sh',
  ],
  'fastapi-postgres': [
    'k8s/postgres-deployment.yaml',
    'k8s/postgres-pvc.yaml',
    'k8s/postgres-secret.yaml',
    'k8s/postgres-service.yaml',
    'scripts/test-persistence.sh',
    'scripts/verify.sh',
  ],
  'fastapi-multi-tier': [
    'k8s/fastapi-backend-deployment.yaml',
    'k8s/fastapi-frontend-deployment.yaml',
    'k8s/backend-service.yaml',
    'k8s/frontend-service.yaml',
    'scripts/verify.sh',
  ],
  'fastapi-health-monitoring': [
    'k8s/fastapi-app-deployment.yaml',
    'scripts/verify.sh',
  ],
  'fastapi-resource-quota': [
    'k8s/namespace.yaml',
    'k8s/resource-quota.yaml',
    'k8s/fastapi-app-deployment.yaml',
    'scripts/verify.sh',
  ],
  'fastapi-blue-green': [
    'k8s/blue-deployment.yaml',
    'k8s/green-deployment.yaml',
    'k8s/service.yaml',
    'k8s/preview-service.yaml',
    'overlays/local/kustomization.yaml',
    'VERSION',
    'scripts/bg-switch.sh',
    'scripts/verify.sh',
    'docs/process.md',
  ],
  'fastapi-microservices': [
    'k8s/gateway-deployment.yaml',
    'k8s/orders-deployment.yaml',
    'k8s/inventory-deployment.yaml',
    'k8s/payments-deployment.yaml',
    'k8s/network-policy.yaml',
    'topology.yaml',
    'scripts/topology.py',
    'scripts/create-secret.sh',
    'scripts/verify.sh',
    'docs/topology.md',
    'docs/auth.md',
    'docs/resilience.md',
    'docs/tracing.md',
  ],
  'fastapi-gitops': [
    'k8s/deployment.yaml',
    'k8s/service.yaml',
    'overlays/dev/kustomization.yaml',
    'overlays/staging/kustomization.yaml',
    'overlays/prod/kustomization.yaml',
    'overlays/prod/hpa.yaml',
    'flux/source.yaml',
    'flux/dev.yaml',
    'flux/staging.yaml',
    'flux/prod.yaml',
    '.github/workflows/deploy.yaml',
    'scripts/validate-deployment.sh',
    'scripts/promote.sh',
    'scripts/set-image-digest.sh',
    'scripts/verify.sh',
    'docs/gitops.md',
    'docs/validation.md',
  ],
};

/**
 * The PodDisruptionBudget manifests each template generates (listed in its
 * k8s/kustomization.yaml), and the Deployments that have none on purpose: one replica
 * with state of its own, where a budget could only block every node drain
 * (minAvailable: 1) or protect nothing (maxUnavailable: 1). Their manifests say why.
 */
export const DISRUPTION_BUDGETS: Record<
  string,
  { files: string[]; noBudget: string[] }
> = {
  'fastapi-static-web': { files: ['k8s/pdb.yaml'], noBudget: [] },
  'fastapi-postgres': {
    files: ['k8s/pdb.yaml'],
    noBudget: ['k8s/postgres-deployment.yaml'],
  },
  'fastapi-multi-tier': {
    files: ['k8s/frontend-pdb.yaml'],
    noBudget: ['k8s/fastapi-backend-deployment.yaml'],
  },
  'fastapi-health-monitoring': { files: ['k8s/pdb.yaml'], noBudget: [] },
  'fastapi-resource-quota': { files: ['k8s/pdbs.yaml'], noBudget: [] },
  'fastapi-blue-green': { files: ['k8s/pdbs.yaml'], noBudget: [] },
  'fastapi-gitops': { files: ['k8s/pdb.yaml'], noBudget: [] },
  'fastapi-microservices': {
    files: ['k8s/gateway-pdb.yaml'],
    noBudget: [
      'k8s/orders-deployment.yaml',
      'k8s/inventory-deployment.yaml',
      'k8s/payments-deployment.yaml',
    ],
  },
};
