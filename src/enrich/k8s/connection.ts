// Where the Kubernetes API server is and how to authenticate: in-cluster (the pod's service
// account) or a kubeconfig file. Reading these is I/O done once at start, never per sample.
//
// In-cluster (what client-go's rest.InClusterConfig does): KUBERNETES_SERVICE_HOST/PORT, the
// token and CA in /var/run/secrets/kubernetes.io/serviceaccount. The token file is read again
// for every request: projected service-account tokens rotate (about hourly).
//
// Kubeconfig: the current context (or a named one) → cluster (server, certificate-authority or
// -data, insecure-skip-tls-verify, tls-server-name) and user (token, tokenFile,
// client-certificate(-data) + client-key(-data), username/password). Relative paths are relative
// to the kubeconfig's directory. exec and auth-provider plugins are not supported (they would run
// programs — aws, gcloud — from inside the analyzer): use a service-account token instead.

import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface KubeConnection {
  /** `https://host:port` (or `http://` — tests, kubectl proxy). */
  server: string;
  /** PEM trust anchors; none: the system's. */
  ca?: string;
  /** PEM client certificate and key. */
  cert?: string;
  key?: string;
  /** A fixed bearer token. */
  token?: string;
  /** A file holding the bearer token, read for each request (wins over `token`). */
  tokenFile?: string;
  username?: string;
  password?: string;
  insecureSkipTlsVerify?: boolean;
  /** SNI / the name the server certificate must carry, when it differs from the server's host. */
  tlsServerName?: string;
  /** Where this came from, for logs and the Status page (`in-cluster`, `kubeconfig <path> (context <name>)`). */
  source: string;
}

export class KubeConfigError extends Error {}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The pod's service-account connection. Throws KubeConfigError when not running in a pod. */
export async function inClusterConnection(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): Promise<KubeConnection> {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new KubeConfigError('not running in a Kubernetes pod: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set');
  }
  const tokenFile = join(dir, 'token');
  try {
    await readFile(tokenFile, 'utf8');
  } catch (e) {
    throw new KubeConfigError(`no service-account token at ${tokenFile} (automountServiceAccountToken: false?): ${(e as Error).message}`);
  }
  let ca: string | undefined;
  try {
    ca = await readFile(join(dir, 'ca.crt'), 'utf8');
  } catch (e) {
    throw new KubeConfigError(`no cluster CA at ${join(dir, 'ca.crt')}: ${(e as Error).message}`);
  }
  const h = host.includes(':') ? `[${host}]` : host;
  return { server: `https://${h}:${port}`, ca, tokenFile, source: 'in-cluster' };
}

/** `$KUBECONFIG` (its first existing entry) or `~/.kube/config`. */
export function defaultKubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const list = (env.KUBECONFIG ?? '').split(process.platform === 'win32' ? ';' : ':').filter(Boolean);
  return list[0] ?? join(env.HOME ?? homedir(), '.kube', 'config');
}

type Obj = Record<string, unknown>;

function named(list: unknown, name: string, what: string, path: string): Obj {
  if (Array.isArray(list)) {
    for (const e of list) {
      if (e && typeof e === 'object' && (e as Obj).name === name) {
        const inner = (e as Obj)[what];
        return inner && typeof inner === 'object' ? (inner as Obj) : {};
      }
    }
  }
  throw new KubeConfigError(`${path}: no ${what} named "${name}"`);
}

function str(o: Obj, k: string): string | undefined {
  const v = o[k];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Parse a kubeconfig file into a connection (current context unless `context` is given). */
export async function kubeconfigConnection(path: string, context?: string): Promise<KubeConnection> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new KubeConfigError(`cannot read kubeconfig ${path}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new KubeConfigError(`kubeconfig ${path} is not YAML: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== 'object') throw new KubeConfigError(`kubeconfig ${path} is empty`);
  const cfg = doc as Obj;
  const ctxName = context ?? str(cfg, 'current-context');
  if (!ctxName) throw new KubeConfigError(`kubeconfig ${path} has no current-context (pass a context)`);
  const ctx = named(cfg.contexts, ctxName, 'context', path);
  const clusterName = str(ctx, 'cluster');
  if (!clusterName) throw new KubeConfigError(`${path}: context "${ctxName}" names no cluster`);
  const cluster = named(cfg.clusters, clusterName, 'cluster', path);
  const userName = str(ctx, 'user');
  const user = userName ? named(cfg.users, userName, 'user', path) : {};
  const base = dirname(resolve(path));
  const file = (p: string): string => (isAbsolute(p) ? p : join(base, p));
  const readPem = async (dataKey: string, fileKey: string, o: Obj): Promise<string | undefined> => {
    const data = str(o, dataKey);
    if (data) return Buffer.from(data, 'base64').toString('utf8');
    const f = str(o, fileKey);
    if (!f) return undefined;
    try {
      return await readFile(file(f), 'utf8');
    } catch (e) {
      throw new KubeConfigError(`${path}: cannot read ${fileKey} ${f}: ${(e as Error).message}`);
    }
  };

  const server = str(cluster, 'server');
  if (!server) throw new KubeConfigError(`${path}: cluster "${clusterName}" has no server`);
  try {
    const u = new URL(server);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(`unsupported scheme ${u.protocol}`);
  } catch (e) {
    throw new KubeConfigError(`${path}: bad server "${server}": ${(e as Error).message}`);
  }
  if (user.exec !== undefined || user['auth-provider'] !== undefined) {
    throw new KubeConfigError(
      `${path}: user "${userName}" authenticates with an ${user.exec !== undefined ? 'exec' : 'auth-provider'} plugin, which sflowscope does not run; ` +
        'use a context whose user has a token (e.g. a service-account token) or a client certificate',
    );
  }
  const conn: KubeConnection = { server: server.replace(/\/+$/, ''), source: `kubeconfig ${path} (context ${ctxName})` };
  const ca = await readPem('certificate-authority-data', 'certificate-authority', cluster);
  if (ca) conn.ca = ca;
  if (cluster['insecure-skip-tls-verify'] === true) conn.insecureSkipTlsVerify = true;
  const sni = str(cluster, 'tls-server-name');
  if (sni) conn.tlsServerName = sni;
  const cert = await readPem('client-certificate-data', 'client-certificate', user);
  const key = await readPem('client-key-data', 'client-key', user);
  if ((cert === undefined) !== (key === undefined)) throw new KubeConfigError(`${path}: user "${userName}" has a client certificate without its key, or a key without its certificate`);
  if (cert && key) {
    conn.cert = cert;
    conn.key = key;
  }
  const token = str(user, 'token');
  if (token) conn.token = token;
  const tokenFile = str(user, 'tokenFile');
  if (tokenFile) conn.tokenFile = file(tokenFile);
  const username = str(user, 'username');
  const password = str(user, 'password');
  if (username && password) {
    conn.username = username;
    conn.password = password;
  }
  return conn;
}
