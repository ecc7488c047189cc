// The analyzer Deployment's container, run here as Kubernetes would run it: its exact command and
// args with the environment the manifest sets. Only what cannot exist on a test machine is
// changed: the ports become free loopback ports (bound on 127.0.0.1 only) and the data
// directory a temporary one. The server must come up healthy on its probes, take sFlow on its
// UDP port, satisfy the image's HEALTHCHECK, and exit 0 on SIGTERM.
//
// The command is `node dist/cli/main.js serve` (the image's CMD). Without a build (dist/ is made
// by `npm run build`, which CI runs first) the same module is run from source with tsx:
// `node --import tsx src/cli/main.ts serve`. With neither, the tests fail: never a silent pass.

import { spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCaptureDatagrams } from '../../src/ingest/capture-feed.js';
import { listCaptures } from '../oracle.js';
import { parseDockerfile } from './dockerfile.js';
import { BASE_DIR, find, kustomize, literalEnv, podSpec, REPO } from './k8s.js';
import { freeTcpPort, freeUdpPort, resolveCommand, sleep, spawnContainer, waitHealthy } from './run-container.js';

const START_TIMEOUT_MS = 45_000;

// ---- the Deployment as rendered --------------------------------------------------------------

const objects = kustomize(BASE_DIR).objects;
const deployment = find(objects, 'Deployment', 'sflowscope');
const container = podSpec(deployment).containers.find((c: { name: string }) => c.name === 'sflowscope');
const manifestEnv = literalEnv(container);
const command: string[] = [...(container.command ?? []), ...(container.args ?? [])];
const dockerfile = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
const healthcheck = dockerfile.stages.at(-1)!.instructions.filter((i) => i.keyword === 'HEALTHCHECK').at(-1)?.exec ?? null;

/** The settings this test replaces (they must be in the manifest: the test maps them, not invents them). */
const MAPPED = ['SFLOWSCOPE_HTTP_PORT', 'SFLOWSCOPE_SFLOW_PORT', 'SFLOWSCOPE_DATA_DIR'];

describe("the analyzer container's entry command, with the manifest's environment", () => {
  let child: ChildProcess | null = null;
  let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let httpPort = 0;
  let sflowPort = 0;
  let dataDir = '';
  let base = '';
  let started = false;
  const needServer = () => {
    if (!started) throw new Error('the server did not start (see the first test of this group)');
  };

  let log = () => '';

  /** Run the image's HEALTHCHECK command (exec form) as Docker would, against our port. */
  function runHealthcheck(): number | null {
    const { args } = resolveCommand(healthcheck!);
    const r = spawnSync(process.execPath, args, { cwd: REPO, env: { PATH: process.env.PATH, ...manifestEnv, SFLOWSCOPE_HTTP_PORT: String(httpPort) }, timeout: 15_000 });
    return r.status;
  }

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exit;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  // Starting is a test of its own (not a beforeAll): a server that cannot start is a failure,
  // counted as one, and the later tests fail with it rather than being skipped.
  it('starts with the exact command and environment, and becomes healthy', async () => {
    for (const k of MAPPED) expect(manifestEnv[k], `the manifest sets ${k}`).toBeDefined();
    httpPort = await freeTcpPort();
    sflowPort = await freeUdpPort();
    dataDir = mkdtempSync(join(tmpdir(), 'sflowscope-deploy-'));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      ...manifestEnv,
      SFLOWSCOPE_HTTP_PORT: String(httpPort),
      SFLOWSCOPE_SFLOW_PORT: String(sflowPort),
      SFLOWSCOPE_DATA_DIR: dataDir,
      // Loopback only on a test machine (the manifest binds every address of the pod).
      SFLOWSCOPE_BIND: '127.0.0.1',
    };
    if (manifestEnv.SFLOWSCOPE_HTTP_BIND !== undefined) env.SFLOWSCOPE_HTTP_BIND = '127.0.0.1';
    if (manifestEnv.SFLOWSCOPE_SFLOW_BIND !== undefined) env.SFLOWSCOPE_SFLOW_BIND = '127.0.0.1';
    const p = spawnContainer(command, env);
    console.info(`deploy entry command: ${p.mode}; env ${Object.keys(manifestEnv).join(' ')}`);
    child = p.child;
    exit = p.exit;
    log = p.log;
    base = `http://127.0.0.1:${httpPort}`;
    await waitHealthy(p, `${base}${container.readinessProbe.httpGet.path as string}`, START_TIMEOUT_MS);
    started = true;
  }, START_TIMEOUT_MS + 15_000);

  it('answers every probe of the manifest (startup, readiness, liveness) with 200', async () => {
    needServer();
    for (const name of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      const path = container[name]?.httpGet?.path as string | undefined;
      expect(path, name).toBeDefined();
      const r = await fetch(`${base}${path}`);
      expect(r.status, `${name} ${path}`).toBe(200);
      expect((await r.text()).trim()).toBe('OK');
    }
  });

  it('takes sFlow on the UDP port the manifest configures', async () => {
    needServer();
    const capture = listCaptures().find((c) => c.name === 'hsflowd-counters.pcap') ?? listCaptures()[0]!;
    const datagrams = (await loadCaptureDatagrams(capture.path)).slice(0, 5);
    expect(datagrams.length).toBeGreaterThan(0);
    const sock = dgram.createSocket('udp4');
    try {
      for (const d of datagrams) await new Promise<void>((resolve, reject) => sock.send(d.payload, sflowPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    } finally {
      sock.close();
    }
    const deadline = Date.now() + 10_000;
    let received = 0;
    while (Date.now() < deadline) {
      const a = (await (await fetch(`${base}/analyzer/json`)).json()) as { sFlowDatagramsReceived?: number };
      received = a.sFlowDatagramsReceived ?? 0;
      if (received >= datagrams.length) break;
      await sleep(100);
    }
    expect(received).toBe(datagrams.length);
  });

  it("passes the image's HEALTHCHECK", () => {
    needServer();
    expect(healthcheck, 'the Dockerfile has a HEALTHCHECK in exec form').not.toBeNull();
    expect(runHealthcheck()).toBe(0);
  });

  it('exits 0 on SIGTERM (what Kubernetes sends on rollout and eviction) within the grace period', async () => {
    needServer();
    child!.kill('SIGTERM');
    const grace = (podSpec(deployment).terminationGracePeriodSeconds ?? 30) * 1000;
    const result = await Promise.race([exit, sleep(Math.min(grace, 20_000)).then(() => 'timeout' as const)]);
    expect(result, `did not stop in time${log()}`).not.toBe('timeout');
    expect(result, log()).toEqual({ code: 0, signal: null });
  });

  it("fails the image's HEALTHCHECK once the server is gone", () => {
    needServer();
    expect(runHealthcheck()).not.toBe(0);
  });
});
