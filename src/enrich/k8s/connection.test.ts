// Kubeconfig and in-cluster connections, and the client over real TLS (server certificate checked
// against the kubeconfig's CA, client certificate checked by the server).

import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { FakeApiServer } from '../testing/fake-apiserver.js';
import { smallCluster } from '../testing/k8s-fixtures.js';
import { haveOpenssl, makeTestPki, type TestPki } from '../testing/tls.js';
import { inClusterConnection, KubeConfigError, kubeconfigConnection, defaultKubeconfigPath } from './connection.js';
import { KubernetesIndex } from './kubernetes-index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sflowscope-kubeconfig-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function kubeconfig(o: { server: string; cluster?: object; user?: object; current?: string; extraContexts?: object[] }): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    'current-context': o.current ?? 'kind-gpu',
    clusters: [{ name: 'kind-gpu', cluster: { server: o.server, ...(o.cluster ?? {}) } }, { name: 'other', cluster: { server: 'https://192.0.2.1:6443' } }],
    contexts: [{ name: 'kind-gpu', context: { cluster: 'kind-gpu', user: 'kind-gpu', namespace: 'default' } }, ...(o.extraContexts ?? [])],
    users: [{ name: 'kind-gpu', user: o.user ?? {} }, { name: 'robot', user: { token: 'robot-token' } }],
  });
}

async function write(name: string, text: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}

describe('kubeconfig', () => {
  it('reads the current context: server, CA data, client certificate data, token', async () => {
    const p = await write(
      'data.yaml',
      kubeconfig({
        server: 'https://127.0.0.1:6443/',
        cluster: { 'certificate-authority-data': b64('CA PEM') },
        user: { 'client-certificate-data': b64('CERT PEM'), 'client-key-data': b64('KEY PEM'), token: 'abc.def' },
      }),
    );
    expect(await kubeconfigConnection(p)).toEqual({
      server: 'https://127.0.0.1:6443',
      ca: 'CA PEM',
      cert: 'CERT PEM',
      key: 'KEY PEM',
      token: 'abc.def',
      source: `kubeconfig ${p} (context kind-gpu)`,
    });
  });

  it('reads files relative to the kubeconfig, a named context, tokenFile, tls-server-name, insecure-skip-tls-verify', async () => {
    await mkdir(join(dir, 'pki'), { recursive: true });
    await writeFile(join(dir, 'pki', 'ca.crt'), 'FILE CA');
    await writeFile(join(dir, 'pki', 'token'), 'file-token');
    const p = await write(
      'files.yaml',
      kubeconfig({
        server: 'https://10.0.0.1:6443',
        cluster: { 'certificate-authority': 'pki/ca.crt', 'tls-server-name': 'kubernetes.default.svc', 'insecure-skip-tls-verify': true },
        extraContexts: [{ name: 'robot@other', context: { cluster: 'kind-gpu', user: 'robot' } }],
      }),
    );
    const c = await kubeconfigConnection(p, 'robot@other');
    expect(c).toMatchObject({ ca: 'FILE CA', tlsServerName: 'kubernetes.default.svc', insecureSkipTlsVerify: true, token: 'robot-token' });
    const q = await write('tokenfile.yaml', kubeconfig({ server: 'https://10.0.0.1:6443', user: { tokenFile: 'pki/token' } }));
    expect((await kubeconfigConnection(q)).tokenFile).toBe(join(dir, 'pki', 'token'));
  });

  it.each([
    ['an exec plugin', { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'aws', args: ['eks', 'get-token'] } }, /exec plugin.*does not run/],
    ['an auth-provider', { 'auth-provider': { name: 'oidc' } }, /auth-provider plugin/],
    ['a certificate without its key', { 'client-certificate-data': b64('CERT') }, /without its key/],
  ])('refuses %s with a clear message', async (_what, user, message) => {
    const p = await write('bad-user.yaml', kubeconfig({ server: 'https://10.0.0.1:6443', user }));
    await expect(kubeconfigConnection(p)).rejects.toThrow(message);
  });

  it('explains missing files, contexts and servers', async () => {
    await expect(kubeconfigConnection(join(dir, 'nope.yaml'))).rejects.toBeInstanceOf(KubeConfigError);
    const p = await write('ctx.yaml', kubeconfig({ server: 'https://10.0.0.1:6443', current: 'gone' }));
    await expect(kubeconfigConnection(p)).rejects.toThrow(/no context named "gone"/);
    const q = await write('scheme.yaml', kubeconfig({ server: 'ftp://10.0.0.1' }));
    await expect(kubeconfigConnection(q)).rejects.toThrow(/bad server/);
    await expect(kubeconfigConnection(await write('notyaml.yaml', 'a: [b'))).rejects.toThrow(/not YAML/);
  });

  it('defaults to the first $KUBECONFIG entry, else ~/.kube/config', () => {
    expect(defaultKubeconfigPath({ KUBECONFIG: '/a/one:/b/two' })).toBe('/a/one');
    expect(defaultKubeconfigPath({ HOME: '/home/op' })).toBe('/home/op/.kube/config');
  });
});

describe('in-cluster', () => {
  it('needs KUBERNETES_SERVICE_HOST/PORT and the service-account files', async () => {
    await expect(inClusterConnection({}, dir)).rejects.toThrow(/not running in a Kubernetes pod/);
    const sa = join(dir, 'sa-empty');
    await mkdir(sa, { recursive: true });
    await expect(inClusterConnection({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, sa)).rejects.toThrow(/no service-account token/);
  });

  it('builds https://host:port with the CA and the token file (IPv6 hosts in brackets)', async () => {
    const sa = join(dir, 'sa');
    await mkdir(sa, { recursive: true });
    await writeFile(join(sa, 'token'), 'eyJhbGciOi...');
    await writeFile(join(sa, 'ca.crt'), 'CLUSTER CA');
    expect(await inClusterConnection({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, sa)).toEqual({
      server: 'https://10.96.0.1:443',
      ca: 'CLUSTER CA',
      tokenFile: join(sa, 'token'),
      source: 'in-cluster',
    });
    expect((await inClusterConnection({ KUBERNETES_SERVICE_HOST: 'fd00:10:96::1', KUBERNETES_SERVICE_PORT: '443' }, sa)).server).toBe('https://[fd00:10:96::1]:443');
  });
});

describe.skipIf(!haveOpenssl())('over TLS', () => {
  let pki: TestPki;
  let s: FakeApiServer;
  beforeAll(async () => {
    pki = makeTestPki();
    s = new FakeApiServer({ tls: { key: pki.serverKey, cert: pki.serverCert, clientCa: pki.caCert } });
    await s.start();
    const c = smallCluster();
    for (const kind of ['nodes', 'services', 'endpointslices', 'pods'] as const) for (const o of c[kind]) s.set(kind, o as never);
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
  });

  async function run(user: object, cluster: object): Promise<KubernetesIndex> {
    const p = await write(`tls-${Math.random().toString(36).slice(2)}.yaml`, kubeconfig({ server: s.url, cluster, user }));
    const ix = new KubernetesIndex({ connection: () => kubeconfigConnection(p), backoffInitialMs: 20, backoffMaxMs: 100 });
    await ix.start();
    return ix;
  }

  it('verifies the server against the kubeconfig CA and presents the client certificate', async () => {
    const ix = await run({ 'client-certificate-data': b64(pki.clientCert), 'client-key-data': b64(pki.clientKey) }, { 'certificate-authority-data': b64(pki.caCert) });
    await ix.waitForSync();
    expect(ix.attribute('10.244.1.17', 'workload')).toBe('web');
    expect(ix.status().lastError).toBeNull();
    await ix.stop();
  });

  it('refuses a server certificate from another CA, and accepts it with insecure-skip-tls-verify', async () => {
    const client = { 'client-certificate-data': b64(pki.clientCert), 'client-key-data': b64(pki.clientKey) };
    const wrong = await run(client, { 'certificate-authority-data': b64(pki.otherCaCert) });
    const t0 = Date.now();
    while (wrong.status().errors === 0 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 10));
    expect(wrong.status().lastError).toMatch(/certificate/i);
    expect(wrong.status().synced).toBe(false);
    await wrong.stop();
    const insecure = await run(client, { 'insecure-skip-tls-verify': true });
    await insecure.waitForSync();
    expect(insecure.status().synced).toBe(true);
    await insecure.stop();
  });

  it('is refused by the server without a client certificate', async () => {
    const ix = await run({}, { 'certificate-authority-data': b64(pki.caCert) });
    const t0 = Date.now();
    while (ix.status().errors === 0 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 10));
    expect(ix.status().errors).toBeGreaterThan(0);
    expect(ix.status().synced).toBe(false);
    await ix.stop();
  });
});
