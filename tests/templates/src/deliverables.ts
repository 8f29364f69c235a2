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
  ],
  'fastapi-postgres': [
    'k8s/postgres-deployment.yaml',
    'k8s/postgres-pvc.yaml',
    'k8s/postgres-secret.yaml',
    'k8s/postgres-service.yaml',
    'scripts/test-persistence.sh',
  ],
  'fastapi-multi-tier': [
    'k8s/fastapi-backend-deployment.yaml',
    'k8s/fastapi-frontend-deployment.yaml',
    'k8s/backend-service.yaml',
    'k8s/frontend-service.yaml',
  ],
  'fastapi-health-monitoring': ['k8s/fastapi-app-deployment.yaml'],
  'fastapi-resource-quota': [
    'k8s/namespace.yaml',
    'k8s/resource-quota.yaml',
    'k8s/fastapi-app-deployment.yaml',
  ],
};
