import { describe, expect, it } from 'vitest';
import { AgentRegistry } from './agents.js';

describe('AgentRegistry', () => {
  it('evicts the least recently seen agent beyond maxAgents, and counts it', () => {
    const reg = new AgentRegistry({ maxAgents: 3 });
    const removed: string[] = [];
    reg.addListener({ agentRemoved: (a, reason) => removed.push(`${a.address} ${reason}`) });
    reg.datagram('10.0.0.1', 0, 1, 1, 's', 100, 0);
    reg.datagram('10.0.0.2', 0, 1, 1, 's', 100, 1000);
    reg.datagram('10.0.0.3', 0, 1, 1, 's', 100, 2000);
    reg.datagram('10.0.0.1', 0, 2, 2, 's', 100, 3000); // seen again: now the most recent
    reg.datagram('10.0.0.4', 0, 1, 1, 's', 100, 4000);
    expect([...reg.agents.keys()].sort()).toEqual(['10.0.0.1', '10.0.0.3', '10.0.0.4']);
    expect(removed).toEqual(['10.0.0.2 evicted']);
    expect(reg.stats.agentsEvicted).toBe(1);
  });

  it('bounds data sources per agent and in total', () => {
    const reg = new AgentRegistry({ maxDataSources: 10, maxDataSourcesPerAgent: 4 });
    const a = reg.datagram('10.0.0.1', 0, 1, 1, 's', 100, 0);
    for (let i = 0; i < 8; i++) reg.dataSource(a, 0, i, i * 2000);
    expect(a.dataSources.size).toBe(4);
    expect([...a.dataSources.values()].map((d) => d.id)).toEqual(['4', '5', '6', '7']);
    const b = reg.datagram('10.0.0.2', 0, 1, 1, 's', 100, 0);
    for (let i = 0; i < 4; i++) reg.dataSource(b, 0, i, 20_000 + i);
    const c = reg.datagram('10.0.0.3', 0, 1, 1, 's', 100, 0);
    for (let i = 0; i < 4; i++) reg.dataSource(c, 0, i, 30_000 + i);
    expect(reg.dataSourceCount).toBe(10);
    expect(reg.stats.dataSourcesEvicted).toBe(6);
  });

  it('expires silent agents and data sources at the sweep, hides them before', () => {
    const reg = new AgentRegistry({ agentTimeoutMs: 60_000, dataSourceTimeoutMs: 30_000 });
    const a = reg.datagram('10.0.0.1', 0, 1, 1, 's', 100, 0);
    const ds1 = reg.dataSource(a, 0, 1, 0)!;
    reg.datagram('10.0.0.1', 0, 2, 2, 's', 100, 40_000);
    const ds2 = reg.dataSource(a, 0, 2, 40_000)!;
    expect(reg.isHidden(ds1, 40_000)).toBe(true);
    expect(reg.isHidden(ds2, 40_000)).toBe(false);
    reg.sweep(40_000);
    expect([...a.dataSources.values()]).toEqual([ds2]);
    expect(reg.isAgentHidden(a, 100_000)).toBe(true);
    reg.sweep(100_000);
    expect(reg.agents.size).toBe(0);
    expect(reg.stats.agentsExpired).toBe(1);
    expect(reg.stats.dataSourcesExpired).toBe(1);
  });

  it('accounts per sub-agent, remembers the UDP sources, detects restarts', () => {
    const reg = new AgentRegistry();
    reg.datagram('10.0.0.1', 1, 100, 5_000_000, '192.0.2.1', 100, 0);
    reg.datagram('10.0.0.1', 2, 7, 9_000_000, '192.0.2.2', 100, 0);
    reg.datagram('10.0.0.1', 1, 101, 5_001_000, '192.0.2.1', 100, 1000);
    reg.datagram('10.0.0.1', 2, 8, 9_001_000, '192.0.2.2', 100, 1000);
    const a = reg.agents.get('10.0.0.1')!;
    expect(a.datagramsLost).toBe(0);
    expect(a.sources).toEqual(['192.0.2.1', '192.0.2.2']);
    // Restart: uptime went back although the sequence looks fine.
    reg.datagram('10.0.0.1', 1, 102, 2_000, '192.0.2.1', 100, 2000);
    expect(a.restarts).toBe(1);
    // Restart: sequence began again.
    reg.datagram('10.0.0.1', 2, 1, 9_100_000, '192.0.2.2', 100, 2000);
    expect(a.restarts).toBe(2);
  });

  it('estimates the effective sampling rate from the sample pool (sFlow-RT EWMA, α 0.02)', () => {
    const reg = new AgentRegistry();
    const a = reg.datagram('10.0.0.1', 0, 1, 1, 's', 100, 0);
    const ds = reg.dataSource(a, 0, 3, 0)!;
    reg.flowSample(ds, 1, 10, 1000, 0);
    expect(ds.effectiveSamplingRate).toBe(10);
    reg.flowSample(ds, 2, 10, 1010, 0);
    expect(ds.effectiveSamplingRate).toBe(10);
    reg.flowSample(ds, 3, 10, 1030, 0); // pool grew 2× faster
    expect(ds.effectiveSamplingRate).toBeCloseTo(10.2, 12);
    reg.flowSample(ds, 4, 10, 1530, 0);
    expect(ds.effectiveSamplingRate).toBeCloseTo(10.2 + 0.02 * (500 - 10.2), 12);
  });
});

describe('data-source keys', () => {
  it('never mix up classes and large indexes', () => {
    const reg = new AgentRegistry();
    const a = reg.datagram('10.0.0.1', 0, 1, 1, 's', 100, 0);
    const x = reg.dataSource(a, 0, 2 ** 28 + 5, 0)!;
    const y = reg.dataSource(a, 1, 5, 0)!;
    const z = reg.dataSource(a, 3, 0xffffffff, 0)!;
    const w = reg.dataSource(a, 0xfffff, 0xffffffff, 0)!;
    expect(new Set([x, y, z, w]).size).toBe(4);
    expect([x.id, y.id, z.id, w.id]).toEqual(['268435461', '1.5', '3.4294967295', '1048575.4294967295']);
    expect(reg.dataSource(a, 0x100000, 1, 0)).toBeNull();
  });
});
