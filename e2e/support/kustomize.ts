// `kustomize build` for the features deploy/kubernetes uses, so the manifests can be checked without a kustomize
// binary: resources (files and directories), namespace, images, configMapGenerator (create and merge, literals) with
// the name hash turned off. Any other field throws, so a kustomization that starts using one fails the test until
// this learns it (or kubectl's kustomize, compared in the test where kubectl is installed, covers it).
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are checked field by field by the test
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & any;

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  resources?: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
  configMapGenerator?: { name: string; behavior?: 'create' | 'merge' | 'replace'; literals?: string[] }[];
  generatorOptions?: { disableNameSuffixHash?: boolean };
}

const KNOWN = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'resources',
  'images',
  'configMapGenerator',
  'generatorOptions',
]);
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition']);
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']);

/** The key kustomize identifies an object by. */
export const objectKey = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** The objects `kustomize build <dir>` outputs (in no particular order). */
export function kustomizeBuild(dir: string): K8sObject[] {
  const file = path.join(dir, 'kustomization.yaml');
  const k = parseYaml(readFileSync(file, 'utf8')) as Kustomization;
  const unknown = Object.keys(k).filter((key) => !KNOWN.has(key));
  if (unknown.length) throw new Error(`${file}: fields this checker does not implement: ${unknown.join(', ')}`);
  if (k.kind !== 'Kustomization') throw new Error(`${file}: kind must be Kustomization`);
  const objects: K8sObject[] = [];
  for (const entry of k.resources ?? []) {
    const target = path.resolve(dir, entry);
    if (!existsSync(target)) throw new Error(`${file}: resource ${entry} does not exist`);
    if (statSync(target).isDirectory()) objects.push(...kustomizeBuild(target));
    else objects.push(...readManifests(target));
  }
  for (const gen of k.configMapGenerator ?? []) {
    if (!k.generatorOptions?.disableNameSuffixHash) throw new Error(`${file}: name hashes are not implemented`);
    const data = Object.fromEntries(
      (gen.literals ?? []).map((l) => {
        const cut = l.indexOf('=');
        if (cut <= 0) throw new Error(`${file}: literal "${l}" is not NAME=value`);
        return [l.slice(0, cut), l.slice(cut + 1)];
      }),
    );
    const existing = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === gen.name);
    const behavior = gen.behavior ?? 'create';
    if (behavior === 'create') {
      if (existing) throw new Error(`${file}: ConfigMap ${gen.name} exists already (use behavior: merge)`);
      objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: gen.name }, data });
    } else {
      if (!existing) throw new Error(`${file}: no ConfigMap ${gen.name} to ${behavior}`);
      existing.data = behavior === 'merge' ? { ...existing.data, ...data } : data;
    }
  }
  for (const image of k.images ?? []) {
    for (const container of objects.flatMap(containersOf)) {
      const [name, tag] = splitImage(container.image);
      if (name !== image.name) continue;
      container.image = `${image.newName ?? name}${image.newTag ? `:${image.newTag}` : tag ? `:${tag}` : ''}`;
    }
  }
  if (k.namespace) {
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  const seen = new Set<string>();
  for (const o of objects) {
    if (seen.has(objectKey(o))) throw new Error(`${file}: ${objectKey(o)} is defined twice`);
    seen.add(objectKey(o));
  }
  return objects;
}

/** Every document of a manifest file; each must be a Kubernetes object. */
export function readManifests(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((doc, i) => {
    if (doc.errors.length) throw new Error(`${file} document ${i + 1}: ${doc.errors[0]?.message}`);
    const o = doc.toJS() as K8sObject;
    if (!o?.apiVersion || !o.kind || !o.metadata?.name) {
      throw new Error(`${file} document ${i + 1}: not a Kubernetes object (apiVersion, kind, metadata.name)`);
    }
    return o;
  });
}

/** The containers (init containers too) of a workload's pod template. */
export function containersOf(o: K8sObject): K8sObject[] {
  if (!WORKLOADS.has(o.kind)) return [];
  const pod = o.spec?.template?.spec ?? {};
  return [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
}

/** `repo/name:tag` → [`repo/name`, `tag`] (a registry port is not a tag). */
export function splitImage(image: string): [string, string | undefined] {
  const cut = image.lastIndexOf(':');
  if (cut < 0 || image.slice(cut).includes('/')) return [image, undefined];
  return [image.slice(0, cut), image.slice(cut + 1)];
}
