import { describe, expect, it } from 'vitest';
import { parseVirtualHostName, podWorkloadName } from './k8s.js';

describe('virtual entity names', () => {
  it.each([
    ['web-7d9f8c6b5-x2x7q', 'web'],
    ['ingest-28f6d', 'ingest'],
    ['trainer-0', 'trainer-0'],
    ['backup-28394720-kx9zq', 'backup'], // CronJob: <name>-<schedule time>-<random>
    ['coredns-5d78c9869d-8hbk2', 'coredns'],
    ['kube-proxy-x8z2w', 'kube-proxy'],
    ['etcd-control-plane', 'etcd-control-plane'],
  ])('pod %s belongs to workload %s', (pod, name) => {
    expect(podWorkloadName(pod)).toBe(name);
  });

  it('parses dockershim container names (as sFlow-RT)', () => {
    expect(parseVirtualHostName('k8s_web_web-7d9f8c6b5-x2x7q_frontend_8c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e_0')).toEqual({
      k8s_container: 'web',
      k8s_name: 'web',
      k8s_namespace: 'frontend',
    });
    expect(parseVirtualHostName('k8s_POD_trainer-0_ml-team_3f2a9c1e_0')).toEqual({ k8s_container: 'POD', k8s_name: 'trainer-0', k8s_namespace: 'ml-team' });
  });

  it('parses hsflowd k8s-module pod names (no container part)', () => {
    expect(parseVirtualHostName('k8s__ingest-28f6d_data_u_a')).toEqual({ k8s_name: 'ingest', k8s_namespace: 'data' });
  });

  it('names Swarm tasks, systemd units and plain Docker containers', () => {
    expect(parseVirtualHostName('web.1.abcdefghijklmnopqrstuvwxy')).toEqual({ swarm_name: 'web' });
    expect(parseVirtualHostName('ssh.service')).toEqual({ systemd_service: 'ssh.service' });
    expect(parseVirtualHostName('memhog')).toEqual({ docker_name: 'memhog' });
    expect(parseVirtualHostName('bad name!')).toBeNull();
    expect(parseVirtualHostName('k8s_')).toEqual({ docker_name: 'k8s_' });
  });
});
