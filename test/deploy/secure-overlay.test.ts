// deploy/overlays/secure, run as Kubernetes would run it: the rendered container's exact command
// and environment, with the Secrets it mounts replaced by files made here (a certificate from
// `openssl`, a token file) at the same names under a temporary directory. The probes must pass
// over HTTPS, changes must need a token, reads must not, sFlow from outside the allowed prefixes
// must be dropped and counted, and the image's HEALTHCHECK must follow TLS.

import { spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDockerfile } from './dockerfile.js';
import { find, kustomize, literalEnv, OVERLAYS_DIR, podSpec, REPO } from './k8s.js';
import { freeTcpPort, freeUdpPort, request, resolveCommand, sleep, spawnContainer, waitHealthy } from './run-container.js';
import { counterSample, datagram, ifCounters } from '../helpers/datagrams.js';

const START_TIMEOUT_MS = 45_000;
const haveOpenssl = spawnSync('openssl', ['version']).status === 0;

const objects = kustomize(join(OVERLAYS_DIR, 'secure')).objects;
const deployment = find(objects, 'Deployment', 'sflowscope');
const pod = podSpec(deployment);
const container = pod.containers.find((c: { name: string }) => c.name === 'sflowscope');
const manifestEnv = literalEnv(container);
const command: string[] = [...(container.command ?? []), ...(container.args ?? [])];
const healthcheck = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8')).stages.at(-1)!.instructions.filter((i) => i.keyword === 'HEALTHCHECK').at(-1)!.exec!;

/** The Secret volume mounted at the directory holding `path`, and the key (file name) read from it. */
function secretFor(path: string): { secretName: string; mountPath: string; key: string } {
  const mount = container.volumeMounts.find((m: { mountPath: string }) => path.startsWith(`${m.mountPath}/`));
  expect(mount, `${path} is on a mounted volume`).toBeDefined();
  const vol = pod.volumes.find((v: { name: string }) => v.name === mount.name);
  expect(vol?.secret?.secretName, `${path} comes from a Secret`).toBeDefined();
  return { secretName: vol.secret.secretName, mountPath: mount.mountPath, key: posix.relative(mount.mountPath, path) };
}

describe('the secure overlay, rendered', () => {
  it('reads its certificate, key and tokens from read-only Secret mounts', () => {
    for (const k of ['SFLOWSCOPE_TLS_CERT', 'SFLOWSCOPE_TLS_KEY', 'SFLOWSCOPE_AUTH_TOKEN_FILE']) {
      expect(manifestEnv[k], k).toMatch(/^\//);
      const s = secretFor(manifestEnv[k]!);
      const mount = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === s.mountPath);
      expect(mount.readOnly, `${s.mountPath} read-only`).toBe(true);
    }
    // A kubernetes.io/tls Secret holds tls.crt and tls.key (what `kubectl create secret tls` and cert-manager write).
    expect(secretFor(manifestEnv.SFLOWSCOPE_TLS_CERT!)).toMatchObject({ secretName: 'sflowscope-tls', key: 'tls.crt' });
    expect(secretFor(manifestEnv.SFLOWSCOPE_TLS_KEY!)).toMatchObject({ secretName: 'sflowscope-tls', key: 'tls.key' });
  });

  it('probes over HTTPS, and tells annotation-based scrapers so', () => {
    for (const p of ['startupProbe', 'readinessProbe', 'livenessProbe']) expect(container[p].httpGet.scheme, p).toBe('HTTPS');
    expect(deployment.spec.template.metadata.annotations['prometheus.io/scheme']).toBe('https');
  });
});

describe.skipIf(!haveOpenssl)('the secure overlay’s container, run with its exact command and environment', () => {
  let child: ChildProcess | null = null;
  let exit: Promise<unknown> = Promise.resolve();
  let dir = '';
  let base = '';
  let sflowPort = 0;
  let httpPort = 0;
  let ca = Buffer.alloc(0);
  let env: NodeJS.ProcessEnv = {};
  let started = false;
  let log = () => '';
  const token = 'c2VjcmV0LXRva2VuLWZvci10ZXN0cw';
  const needServer = () => {
    if (!started) throw new Error('the server did not start (see the first test of this group)');
  };

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exit;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('starts and answers its probes over HTTPS', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sflowscope-secure-'));
    // The Secrets' files, at their mount paths re-rooted under `dir`.
    const local = (p: string) => join(dir, p);
    for (const k of ['SFLOWSCOPE_TLS_CERT', 'SFLOWSCOPE_AUTH_TOKEN_FILE']) mkdirSync(join(local(manifestEnv[k]!), '..'), { recursive: true });
    const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=sflowscope.sflowscope.svc', '-addext', 'subjectAltName=DNS:sflowscope.sflowscope.svc,IP:127.0.0.1', '-keyout', local(manifestEnv.SFLOWSCOPE_TLS_KEY!), '-out', local(manifestEnv.SFLOWSCOPE_TLS_CERT!)], { encoding: 'utf8' });
    expect(gen.status, gen.stderr).toBe(0);
    ca = readFileSync(local(manifestEnv.SFLOWSCOPE_TLS_CERT!));
    writeFileSync(local(manifestEnv.SFLOWSCOPE_AUTH_TOKEN_FILE!), `# issued for the test\n${token}\n`);
    httpPort = await freeTcpPort();
    sflowPort = await freeUdpPort();
    const dataDir = join(dir, 'data');
    env = {
      PATH: process.env.PATH,
      ...manifestEnv,
      SFLOWSCOPE_HTTP_PORT: String(httpPort),
      SFLOWSCOPE_SFLOW_PORT: String(sflowPort),
      SFLOWSCOPE_DATA_DIR: dataDir,
      SFLOWSCOPE_BIND: '127.0.0.1',
      SFLOWSCOPE_TLS_CERT: local(manifestEnv.SFLOWSCOPE_TLS_CERT!),
      SFLOWSCOPE_TLS_KEY: local(manifestEnv.SFLOWSCOPE_TLS_KEY!),
      SFLOWSCOPE_AUTH_TOKEN_FILE: local(manifestEnv.SFLOWSCOPE_AUTH_TOKEN_FILE!),
    };
    const p = spawnContainer(command, env);
    child = p.child;
    exit = p.exit;
    log = p.log;
    base = `https://127.0.0.1:${httpPort}`;
    await waitHealthy(p, `${base}${container.readinessProbe.httpGet.path as string}`, START_TIMEOUT_MS, ca);
    started = true;
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      const r = await request(`${base}${container[probe].httpGet.path as string}`, { ca });
      expect(r.status, probe).toBe(200);
    }
  }, START_TIMEOUT_MS + 15_000);

  it('does not answer plain HTTP on its port', async () => {
    needServer();
    const r = await request(`http://127.0.0.1:${httpPort}/status`, { timeoutMs: 3000 }).catch((e: Error) => e);
    // Node's TLS server drops a plaintext client (or answers 400 on newer versions): never a 200.
    if (!(r instanceof Error)) expect(r.status).not.toBe(200);
  });

  it('lets anyone read, and only a token holder change a flow definition', async () => {
    needServer();
    const spec = JSON.stringify({ keys: 'ipsource', value: 'bytes' });
    const headers = { 'content-type': 'application/json' };
    expect((await request(`${base}/flow/json`, { ca })).status).toBe(200);
    const anon = await request(`${base}/flow/secure-test/json`, { method: 'PUT', headers, body: spec, ca });
    expect(anon.status, log()).toBe(401);
    const wrong = await request(`${base}/flow/secure-test/json`, { method: 'PUT', headers: { ...headers, authorization: 'Bearer not-the-token' }, body: spec, ca });
    expect([401, 403]).toContain(wrong.status);
    const ok = await request(`${base}/flow/secure-test/json`, { method: 'PUT', headers: { ...headers, authorization: `Bearer ${token}` }, body: spec, ca });
    expect(ok.status, ok.body).toBe(204);
    const read = await request(`${base}/flow/secure-test/json`, { ca });
    expect(JSON.parse(read.body)).toMatchObject({ keys: 'ipsource', value: 'bytes' });
  });

  it('drops and counts sFlow from a source outside SFLOWSCOPE_AGENTS_ALLOW (loopback is not in it)', async () => {
    needServer();
    expect(manifestEnv.SFLOWSCOPE_AGENTS_ALLOW).not.toMatch(/(^|,)(127\.|::1)/);
    const sock = dgram.createSocket('udp4');
    const bytes = datagram('10.1.2.3', 1, 60_000, [counterSample(0, 1, 1, [ifCounters(1, {})])]);
    try {
      for (let i = 0; i < 3; i++) await new Promise<void>((resolve, reject) => sock.send(bytes, sflowPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    } finally {
      sock.close();
    }
    const deadline = Date.now() + 10_000;
    let a: { sFlowAgents?: number; sFlowBadInput?: Record<string, number> } = {};
    while (Date.now() < deadline) {
      a = JSON.parse((await request(`${base}/analyzer/json`, { ca })).body) as typeof a;
      if ((a.sFlowBadInput?.source_not_allowed ?? 0) >= 3) break;
      await sleep(100);
    }
    expect(a.sFlowBadInput?.source_not_allowed).toBe(3);
    expect(a.sFlowAgents).toBe(0);
  });

  it("passes the image's HEALTHCHECK over HTTPS", () => {
    needServer();
    const { args } = resolveCommand(healthcheck);
    const r = spawnSync(process.execPath, args, { cwd: REPO, env, timeout: 15_000, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });
});
