// Helpers for the deployment tests: the Kubernetes manifests as plain files and as rendered by
// `kubectl kustomize` (offline), parsed into objects.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEPLOY = join(REPO, 'deploy');
export const BASE_DIR = join(DEPLOY, 'kubernetes');
export const OVERLAYS_DIR = join(DEPLOY, 'overlays');

/** A Kubernetes object as parsed from YAML (loosely typed: tests walk into it). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [k: string]: any;
}

/** Parse a multi-document YAML stream; throws on any YAML error or warning. */
export function parseYamlStream(text: string, source: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true })) {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) throw new Error(`${source}: ${problems.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue; // empty document
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${source}: a document is not a mapping`);
    out.push(value as K8sObject);
  }
  return out;
}

/** The plain manifest files users apply with `kubectl apply -f`. */
export const PLAIN_MANIFESTS = ['sflowscope.yaml', 'host-sflow.yaml'].map((f) => join(BASE_DIR, f));

export function loadFile(path: string): K8sObject[] {
  return parseYamlStream(readFileSync(path, 'utf8'), relative(REPO, path));
}

/** Every kustomization directory: the base and each overlay. */
export function kustomizations(): { name: string; dir: string }[] {
  const out = [{ name: 'base', dir: BASE_DIR }];
  for (const d of readdirSync(OVERLAYS_DIR).sort()) {
    const dir = join(OVERLAYS_DIR, d);
    if (statSync(dir).isDirectory()) out.push({ name: d, dir });
  }
  return out;
}

export interface Rendered {
  objects: K8sObject[];
  stderr: string;
}

const renderCache = new Map<string, Rendered>();

/** `kubectl kustomize DIR`, parsed. Throws with kubectl's message when it fails. */
export function kustomize(dir: string): Rendered {
  const hit = renderCache.get(dir);
  if (hit) return hit;
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`cannot run kubectl (install kubectl ≥ 1.27 with its built-in kustomize): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`kubectl kustomize ${relative(REPO, dir)} failed:\n${r.stderr}`);
  const rendered = { objects: parseYamlStream(r.stdout, `kustomize ${relative(REPO, dir)}`), stderr: r.stderr };
  renderCache.set(dir, rendered);
  return rendered;
}

export function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata?.name === name);
  if (!o) throw new Error(`no ${kind} ${name} among ${objects.map((x) => `${x.kind}/${x.metadata?.name}`).join(', ')}`);
  return o;
}

export function findAll(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((x) => x.kind === kind);
}

/** The pod template of a workload (Deployment, DaemonSet, StatefulSet, Job). */
export function podSpec(workload: K8sObject): any {
  return workload.spec?.template?.spec;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

/** The literal env of a container, as a map; throws on valueFrom (the tests cannot resolve it). */
export function literalEnv(container: { env?: EnvVar[] }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.valueFrom !== undefined) throw new Error(`env ${e.name} uses valueFrom: give the test a value for it`);
    out[e.name] = e.value ?? '';
  }
  return out;
}

/** Services that select a workload's pods. */
export function servicesSelecting(objects: readonly K8sObject[], workload: K8sObject): K8sObject[] {
  const labels: Record<string, string> = workload.spec?.template?.metadata?.labels ?? {};
  return findAll(objects, 'Service').filter((s) => {
    const sel: Record<string, string> | undefined = s.spec?.selector;
    return sel !== undefined && Object.entries(sel).every(([k, v]) => labels[k] === v) && (s.metadata.namespace ?? 'default') === (workload.metadata.namespace ?? 'default');
  });
}
