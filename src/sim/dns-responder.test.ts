import { Resolver } from 'node:dns/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterDnsResponder, DnsResponder, reverseNameToIPv4 } from './dns-responder.js';
import { dnsQuery } from './packets.js';
import { buildCluster } from './topology.js';

const cluster = buildCluster({ nodes: 12, seed: 4 });

describe('DNS responder over UDP on loopback (node:dns Resolver)', () => {
  const dns = clusterDnsResponder(cluster);
  const resolver = new Resolver({ timeout: 2000, tries: 1 });

  beforeAll(async () => {
    const port = await dns.start();
    resolver.setServers([`127.0.0.1:${port}`]);
  });
  afterAll(async () => {
    await dns.stop();
  });

  it('answers PTR for pods with <dashed-ip>.<namespace>.pod.cluster.local', async () => {
    const pod = cluster.pods.find((p) => !p.hostNetwork && p.namespace === 'nlp-lab')!;
    expect(await resolver.reverse(pod.ip)).toEqual([`${pod.ip.replace(/\./g, '-')}.nlp-lab.pod.cluster.local`]);
  });

  it('answers PTR for services with <svc>.<namespace>.svc.cluster.local', async () => {
    expect(await resolver.reverse('10.96.0.10')).toEqual(['kube-dns.kube-system.svc.cluster.local']);
    const minio = cluster.services.find((s) => s.name === 'minio')!;
    expect(await resolver.reverse(minio.ip)).toEqual(['minio.storage.svc.cluster.local']);
  });

  it('answers PTR for nodes with the node name', async () => {
    const node = cluster.nodes.find((n) => n.role === 'gpu')!;
    expect(await resolver.reverse(node.ip)).toEqual([node.name]);
  });

  it('answers NXDOMAIN for addresses it does not know', async () => {
    await expect(resolver.reverse('192.0.2.77')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.reverse('2001:db8::1')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('answers A for the names it gives out, NXDOMAIN for others', async () => {
    expect(await resolver.resolve4('kube-dns.kube-system.svc.cluster.local')).toEqual(['10.96.0.10']);
    const node = cluster.nodes[0]!;
    expect(await resolver.resolve4(node.name)).toEqual([node.ip]);
    await expect(resolver.resolve4('nothing.example')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('counts what it did', () => {
    expect(dns.stats.answered).toBeGreaterThanOrEqual(6);
    expect(dns.stats.nxdomain).toBeGreaterThanOrEqual(3);
  });
});

describe('DNS message handling', () => {
  const dns = new DnsResponder({ ptr: new Map([['10.1.2.3', 'pod-a.ns.pod.cluster.local']]), forward: new Map([['Pod-A.ns.pod.cluster.local.', '10.1.2.3']]) });

  it('parses in-addr.arpa names', () => {
    expect(reverseNameToIPv4('3.2.1.10.in-addr.arpa')).toBe('10.1.2.3');
    expect(reverseNameToIPv4('3.2.1.10.IN-ADDR.ARPA.')).toBe('10.1.2.3');
    expect(reverseNameToIPv4('2.1.10.in-addr.arpa')).toBeNull();
    expect(reverseNameToIPv4('300.2.1.10.in-addr.arpa')).toBeNull();
  });

  it('answers with the id, the question, AA, one PTR record (name compression to the question)', () => {
    const q = dnsQuery(0xbeef, '3.2.1.10.in-addr.arpa', 12);
    const r = dns.answer(q)!;
    expect((r[0]! << 8) | r[1]!).toBe(0xbeef);
    const flags = (r[2]! << 8) | r[3]!;
    expect(flags & 0x8000).toBe(0x8000); // QR
    expect(flags & 0x0400).toBe(0x0400); // AA
    expect(flags & 0x0100).toBe(0x0100); // RD copied
    expect(flags & 0xf).toBe(0); // NOERROR
    expect([r[5], r[7], r[9], r[11]]).toEqual([1, 1, 0, 0]);
    expect(Buffer.from(r.subarray(12, q.length)).equals(Buffer.from(q.subarray(12)))).toBe(true);
    const a = q.length;
    expect([r[a], r[a + 1], r[a + 2], r[a + 3]]).toEqual([0xc0, 0x0c, 0, 12]);
    const rdata = Buffer.from(r.subarray(a + 12)).toString('latin1');
    expect(rdata).toContain('pod-a');
    expect(rdata).toContain('cluster');
  });

  it('NXDOMAIN for unknown names; NODATA for a known name of another type; case-insensitive', () => {
    expect(dns.answer(dnsQuery(1, '9.9.9.9.in-addr.arpa', 12))![3]! & 0xf).toBe(3);
    const nodata = dns.answer(dnsQuery(2, 'pod-a.ns.pod.cluster.local', 28))!;
    expect([nodata[3]! & 0xf, nodata[7]]).toEqual([0, 0]);
    const a = dns.answer(dnsQuery(3, 'POD-A.NS.POD.CLUSTER.LOCAL', 1))!;
    expect([a[3]! & 0xf, a[7]]).toEqual([0, 1]);
    expect([...a.subarray(a.length - 4)]).toEqual([10, 1, 2, 3]);
  });

  it('echoes EDNS(0) when the query has an OPT record', () => {
    const q = dnsQuery(4, '3.2.1.10.in-addr.arpa', 12);
    const withOpt = new Uint8Array(q.length + 11);
    withOpt.set(q);
    withOpt[11] = 1; // ARCOUNT
    withOpt.set([0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0], q.length);
    const r = dns.answer(withOpt)!;
    expect(r[11]).toBe(1);
    expect([...r.subarray(r.length - 11, r.length - 8)]).toEqual([0, 0, 41]);
  });

  it('survives garbage: short messages are dropped, bad questions get FORMERR, other opcodes NOTIMP', () => {
    expect(dns.answer(new Uint8Array(5))).toBeNull();
    const bad = dnsQuery(5, 'a.b', 1);
    bad[12] = 60; // label longer than the message
    expect(dns.answer(bad)![3]! & 0xf).toBe(1);
    const two = dnsQuery(6, 'a.b', 1);
    two[5] = 2;
    expect(dns.answer(two)![3]! & 0xf).toBe(1);
    const notify = dnsQuery(7, 'a.b', 1);
    notify[2] = 0x20; // opcode 4 (NOTIFY)
    expect(dns.answer(notify)![3]! & 0xf).toBe(4);
    const response = dnsQuery(8, 'a.b', 1);
    response[2] |= 0x80;
    expect(dns.answer(response)).toBeNull();
  });
});
