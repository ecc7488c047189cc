import { describe, expect, it } from 'vitest';
import { counterSample, datagram, ifCounters } from '../../test/helpers/datagrams.js';
import { ManualClock } from './clock.js';
import { Engine } from './engine.js';
import { SourceFilter } from './source-filter.js';

describe('SourceFilter', () => {
  it('checks IPv4, IPv6 and IPv4-mapped sources against the prefixes', () => {
    const f = new SourceFilter(['10.0.0.0/8', ' 192.0.2.7 ', '2001:db8::/32', '::ffff:172.16.0.0/108']);
    expect(f.prefixes).toEqual(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32', '::ffff:172.16.0.0/108']);
    for (const ok of ['10.1.2.3', '::ffff:10.1.2.3', '192.0.2.7', '2001:db8::1', '2001:db8:ffff::%eth0', '172.16.5.5', '::ffff:172.16.0.1']) expect(f.allows(ok), ok).toBe(true);
    for (const no of ['11.0.0.1', '::ffff:11.0.0.1', '192.0.2.8', '2001:db9::1', '::1', '127.0.0.1', '172.32.0.1', 'not-an-address', '', '::ffff:0a01:0203x']) expect(f.allows(no), no).toBe(false);
    // The mapped form written in hex is the same address.
    expect(f.allows('::ffff:a01:203')).toBe(true);
  });

  it('0.0.0.0/0 and ::/0 allow their whole family only', () => {
    const v4 = new SourceFilter(['0.0.0.0/0']);
    expect(v4.allows('203.0.113.9')).toBe(true);
    expect(v4.allows('::ffff:203.0.113.9')).toBe(true);
    expect(v4.allows('2001:db8::1')).toBe(false);
    const v6 = new SourceFilter(['::/0']);
    expect(v6.allows('::1')).toBe(true);
    expect(v6.allows('203.0.113.9')).toBe(false);
  });

  it('refuses a prefix that is not one', () => {
    expect(() => new SourceFilter(['10.0.0.0/33'])).toThrow(/prefix length/);
    expect(() => new SourceFilter(['example.com'])).toThrow(/not an IPv4 or IPv6/);
  });

  it('keeps its verdict cache bounded under a flood of distinct sources, and counts evictions', () => {
    const f = new SourceFilter(['10.0.0.0/8'], 100);
    let allowed = 0;
    for (let i = 0; i < 10_000; i++) if (f.allows(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`)) allowed++;
    for (let i = 0; i < 10_000; i++) if (f.allows(`2001:db8::${i.toString(16)}`)) allowed++;
    expect(allowed).toBe(10_000);
    expect(f.cached).toBe(100);
    expect(f.stats.cacheEvictions).toBe(20_000 - 100);
    // Verdicts are the same after eviction.
    expect(f.allows('10.0.0.0')).toBe(true);
    expect(f.allows('2001:db8::0')).toBe(false);
  });
});

describe('pipeline with agentsAllow', () => {
  const T0 = 1_800_000_000_000;
  const d = datagram('10.9.9.9', 1, 1, [counterSample(0, 1, 1, [ifCounters(1, {})])]);

  it('drops datagrams from other sources before decoding, counted as source_not_allowed and discarded', () => {
    const e = new Engine(new ManualClock(T0), { pipeline: { agentsAllow: ['192.0.2.0/24'] } });
    e.ingest(d, '198.51.100.1', T0);
    e.ingest(new Uint8Array(0), '198.51.100.1', T0);
    e.ingest(Uint8Array.of(1, 2, 3), '::ffff:198.51.100.1', T0);
    const st = e.pipeline.stats;
    expect(st.datagrams).toBe(3);
    expect(st.discarded).toBe(3);
    expect(st.badInput.source_not_allowed).toBe(3);
    expect(st.badInput.empty + st.badInput.bad_version + st.parseErrors + st.unsupportedVersion).toBe(0);
    expect(e.registry.agents.size).toBe(0);
    e.ingest(d, '::ffff:192.0.2.10', T0);
    expect(e.registry.agents.has('10.9.9.9')).toBe(true);
    expect(st.badInput.source_not_allowed).toBe(3);
    expect(e.analyzerFields()).toMatchObject({ sFlowSourceCacheEvictions: 0 });
  });

  it('accepts everything without a list', () => {
    const e = new Engine(new ManualClock(T0));
    e.ingest(d, 'whatever', T0);
    expect(e.pipeline.sourceFilter).toBeNull();
    expect(e.registry.agents.size).toBe(1);
    expect(e.analyzerFields()).not.toHaveProperty('sFlowSourceCacheEvictions');
  });
});
