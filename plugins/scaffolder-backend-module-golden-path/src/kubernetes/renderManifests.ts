import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { resolveSafeChildPath } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import type { KubeObject } from '@golden-path/plugin-rollouts-common';
import yaml from 'yaml';

const execFileAsync = promisify(execFile);

/** The names kustomize looks for, in its order. */
const KUSTOMIZATION_FILES = [
  'kustomization.yaml',
  'kustomization.yml',
  'Kustomization',
];
const MANIFEST_SUFFIXES = ['.yaml', '.yml', '.json'];

/** The objects of one manifests folder, as they would be applied. */
export interface RenderedManifests {
  /** The folder, relative to the workspace, for messages. */
  path: string;
  objects: KubeObject[];
  /** The rendered YAML stream (what `kubectl kustomize` printed), for the policy checks. */
  text: string;
}

/** `Deployment/web`, the way kubectl names objects. */
export function objectName(object: KubeObject): string {
  return `${object.kind}/${object.metadata?.name}`;
}

function parseObjects(text: string, source: string): KubeObject[] {
  const objects: KubeObject[] = [];
  yaml.parseAllDocuments(text).forEach((doc, index) => {
    const where = `${source}, document ${index + 1}`;
    if (doc.errors.length > 0) {
      throw new InputError(`${where}: invalid YAML: ${doc.errors[0].message}`);
    }
    const value = doc.toJS();
    if (value === null || value === undefined) return;
    const items: unknown[] =
      value.kind === 'List' && Array.isArray(value.items)
        ? value.items
        : [value];
    for (const item of items) {
      const object = item as KubeObject;
      if (
        typeof object !== 'object' ||
        !object?.apiVersion ||
        !object.kind ||
        !object.metadata?.name
      ) {
        throw new InputError(
          `${where}: not a Kubernetes object (apiVersion, kind and metadata.name are required)`,
        );
      }
      objects.push(object);
    }
  });
  return objects;
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

/**
 * Renders the manifests of a folder in the workspace the way `kubectl apply` would read
 * them: with `kubectl kustomize` when the folder has a kustomization (overlays, image
 * overrides, the kustomization's namespace applied), otherwise every YAML/JSON file in
 * the folder (not its subfolders, as `kubectl apply -f <dir>`).
 */
export async function renderManifests(options: {
  workspacePath: string;
  path: string;
  kubectl: string;
  signal?: AbortSignal;
}): Promise<RenderedManifests> {
  let dir: string;
  try {
    dir = resolveSafeChildPath(options.workspacePath, options.path);
  } catch {
    throw new InputError(
      `Manifests path ${options.path} is outside the task's workspace; give a path inside it, e.g. k8s or overlays/local`,
    );
  }
  const stat = await fs.stat(dir).catch(() => undefined);
  if (!stat?.isDirectory()) {
    throw new InputError(
      `Manifests path ${options.path} is not a folder in the task's workspace (did fetch:template or golden-path:fetch:skeleton render it?)`,
    );
  }

  let kustomization: string | undefined;
  for (const name of KUSTOMIZATION_FILES) {
    if (await exists(path.join(dir, name))) {
      kustomization = name;
      break;
    }
  }
  let text: string;
  if (kustomization) {
    try {
      ({ stdout: text } = await execFileAsync(
        options.kubectl,
        ['kustomize', dir],
        { signal: options.signal, maxBuffer: 32 * 1024 * 1024 },
      ));
    } catch (e) {
      const error = e as NodeJS.ErrnoException & { stderr?: string };
      if (error.code === 'ENOENT') {
        throw new Error(
          `kubectl (${options.kubectl}) was not found: the Kubernetes actions render kustomizations with \`kubectl kustomize\`. Install kubectl or set KUBECTL to its path.`,
        );
      }
      throw new InputError(
        `kubectl kustomize ${options.path} failed: ${
          error.stderr?.trim() || error.message
        }`,
      );
    }
  } else {
    const files = (await fs.readdir(dir))
      .filter(f => MANIFEST_SUFFIXES.includes(path.extname(f)))
      .sort();
    const parts: string[] = [];
    for (const file of files) {
      parts.push(await fs.readFile(path.join(dir, file), 'utf8'));
    }
    text = parts.join('\n---\n');
  }
  const objects = parseObjects(text, options.path);
  if (objects.length === 0) {
    throw new InputError(
      `${options.path} holds no Kubernetes objects${
        kustomization ? ` (${kustomization} renders nothing)` : ''
      }`,
    );
  }
  return { path: options.path, objects, text };
}
