// Test certificates made with the openssl CLI: a CA, a server certificate for 127.0.0.1 and
// kubernetes.default.svc, and a client certificate (CN/O as the API server reads them).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A second, unrelated CA (for "wrong CA" tests). */
  otherCaCert: string;
}

export function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'sflowscope-pki-'));
  const f = (n: string): string => join(dir, n);
  const ossl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
  };
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    ossl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=sflowscope-test-ca');
    ossl('req', '-x509', ...ec, '-keyout', f('other.key'), '-out', f('other.crt'), '-days', '2', '-subj', '/CN=some-other-ca');
    writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n');
    ossl('req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=kube-apiserver');
    ossl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('server.ext'));
    writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
    ossl('req', ...ec, '-keyout', f('client.key'), '-out', f('client.csr'), '-subj', '/O=sflowscope/CN=system:serviceaccount:sflowscope:sflowscope');
    ossl('x509', '-req', '-in', f('client.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('client.crt'), '-days', '2', '-extfile', f('client.ext'));
    const r = (n: string): string => readFileSync(f(n), 'utf8');
    return { caCert: r('ca.crt'), serverCert: r('server.crt'), serverKey: r('server.key'), clientCert: r('client.crt'), clientKey: r('client.key'), otherCaCert: r('other.crt') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
