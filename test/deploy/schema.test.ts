// Every manifest and every rendered Kustomize overlay validates against the Kubernetes OpenAPI
// schemas (v1.29 or later), strictly: no unknown field, no deprecated field.
// Needs the devDependency `kubernetes-models` (4.5.x: Kubernetes 1.33 schemas, Node ≥ 14);
// without it these tests are reported as skipped, by name, never passed.

import { relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { kubernetesModelsDir, StrictFieldChecker, validateWithModel } from './k8s-schema.js';
import { kustomizations, kustomize, loadFile, PLAIN_MANIFESTS, REPO, type K8sObject } from './k8s.js';

const modelsDir = kubernetesModelsDir();
const sources: { name: string; objects: () => K8sObject[] }[] = [
  ...PLAIN_MANIFESTS.map((f) => ({ name: relative(REPO, f), objects: () => loadFile(f) })),
  ...kustomizations().map((k) => ({ name: `kubectl kustomize ${relative(REPO, k.dir)}`, objects: () => kustomize(k.dir).objects })),
];

/** Annotations Kubernetes replaced with fields (seccomp, AppArmor, critical-pod...). */
const DEPRECATED_ANNOTATION = /^(seccomp\.security\.alpha\.kubernetes\.io\/|container\.apparmor\.security\.beta\.kubernetes\.io\/|scheduler\.alpha\.kubernetes\.io\/critical-pod$|kubernetes\.io\/ingress\.class$)/;

function annotationsOf(o: K8sObject): string[] {
  return [...Object.keys(o.metadata?.annotations ?? {}), ...Object.keys(o.spec?.template?.metadata?.annotations ?? {})];
}

describe('manifests use no deprecated annotations', () => {
  it.each(sources)('$name', ({ objects }) => {
    for (const o of objects()) expect(annotationsOf(o).filter((a) => DEPRECATED_ANNOTATION.test(a)), `${o.kind}/${o.metadata.name}`).toEqual([]);
  });
});

describe.skipIf(modelsDir === null)(
  modelsDir === null ? 'Kubernetes OpenAPI schema validation — SKIPPED: devDependency kubernetes-models@^4.5.1 is not installed' : 'Kubernetes OpenAPI schema validation (kubernetes-models)',
  () => {
    let strict: StrictFieldChecker;
    beforeAll(() => {
      const kinds = sources.flatMap((s) => s.objects().map((o) => ({ apiVersion: o.apiVersion, kind: o.kind })));
      kinds.push({ apiVersion: 'v1', kind: 'Service' }, { apiVersion: 'v1', kind: 'Pod' }, { apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'FlowSchema' });
      strict = new StrictFieldChecker(modelsDir!, kinds);
    }, 120_000);

    it('the schemas are Kubernetes 1.29 or later', () => {
      // flowcontrol.apiserver.k8s.io/v1 became GA in 1.29, and LoadBalancerIngress.ipMode came with it.
      expect(strict.hasPath('flowcontrol.apiserver.k8s.io/v1', 'FlowSchema', 'spec.priorityLevelConfiguration.name')).toBe(true);
      expect(strict.hasPath('v1', 'Service', 'status.loadBalancer.ingress.ipMode')).toBe(true);
    });

    it('catch what a real API server rejects (self-check)', async () => {
      const bad = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'x' },
        spec: {
          selector: { matchLabels: { a: 'b' } },
          template: {
            metadata: { labels: { a: 'b' } },
            spec: { serviceAccount: 'old', containers: [{ name: 'c', image: 'i:1', imagePullPolicyy: 'Always', ports: [{ containerPort: 'http', protocol: 'SCTPX' }], resources: { limits: { memory: '1 GB' } } }] },
          },
        },
      };
      const errors = await validateWithModel(bad);
      expect(errors.join('\n')).toMatch(/containerPort/);
      expect(errors.join('\n')).toMatch(/protocol/);
      expect(errors.join('\n')).toMatch(/memory/);
      const fields = strict.check(bad);
      expect(fields).toContain('spec.template.spec.containers[0].imagePullPolicyy: unknown field');
      expect(fields.some((f) => f.startsWith('spec.template.spec.serviceAccount: deprecated field'))).toBe(true);
      expect(await validateWithModel({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' }, spec: { type: 'NodePort', ports: [{ port: 6343, protocol: 'UDP' }] } } as never)).toEqual([]);
    });

    describe.each(sources)('$name', ({ objects }) => {
      it('validates against the schema', async () => {
        for (const o of objects()) expect(await validateWithModel(o), `${o.kind}/${o.metadata.name}`).toEqual([]);
      });
      it('has no unknown or deprecated field', () => {
        for (const o of objects()) expect(strict.check(o), `${o.kind}/${o.metadata.name}`).toEqual([]);
      });
    });
  },
);
