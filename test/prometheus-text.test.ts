// The Prometheus text writer: names, escaping, HELP/TYPE, duplicates, the series cap, number formats.

import { describe, expect, it } from 'vitest';
import { FlowExportManager, type FlowExportSource, type FlowExportSpec } from '../src/engine/prometheus/flows.js';
import { formatIfSpeed } from '../src/engine/prometheus/native.js';
import { PrometheusTextWriter, escapeLabelValue, javaDouble, sanitizeLabelName, sanitizeMetricName } from '../src/engine/prometheus/text.js';
import { PROMTOOL, promtoolCheckMetrics } from './helpers/promtool.js';

describe('names and values', () => {
  it('sanitises metric and label names', () => {
    expect(sanitizeMetricName('sflow_vir_nvml_gputime')).toBe('sflow_vir_nvml_gputime');
    expect(sanitizeMetricName('ip-src.dst bps')).toBe('ip_src_dst_bps');
    expect(sanitizeMetricName('2xx')).toBe('_2xx');
    expect(sanitizeMetricName('')).toBe('_');
    expect(sanitizeLabelName('null:[country:ipsource]:unknown')).toBe('null__country_ipsource__unknown');
    expect(sanitizeLabelName('ipsource.1')).toBe('ipsource_1');
    expect(sanitizeLabelName('__name__')).toBe('x__name__');
    expect(sanitizeLabelName('a:b')).toBe('a_b');
  });

  it('escapes label values', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    expect(escapeLabelValue('plain ünïcode')).toBe('plain ünïcode');
    expect(escapeLabelValue('bad \ud800 surrogate')).toBe('bad \ufffd surrogate');
  });

  it('prints numbers as sFlow-RT (Java Double.toString), integers plainly', () => {
    expect(javaDouble(0)).toBe('0.0');
    expect(javaDouble(1.76)).toBe('1.76');
    expect(javaDouble(8676)).toBe('8676.0');
    expect(javaDouble(25148438)).toBe('2.5148438E7');
    expect(javaDouble(1e7)).toBe('1.0E7');
    expect(javaDouble(0.000128)).toBe('1.28E-4');
    expect(javaDouble(NaN)).toBe('NaN');
    expect(javaDouble(Infinity)).toBe('+Inf');
    const w = new PrometheusTextWriter({ comments: false });
    w.add('a', [], 1984633649152, true);
    w.add('b', [], 0, true);
    w.add('c', [], 0, false);
    w.add('d', [], 1.5, true);
    expect(w.render()).toBe('a 1984633649152\nb 0\nc 0.0\nd 1.5\n');
  });

  it('formats ifspeed like sFlow-RT', () => {
    expect(formatIfSpeed(0)).toBe('0');
    expect(formatIfSpeed(1e9)).toBe('1G');
    expect(formatIfSpeed(1e10)).toBe('10G');
    expect(formatIfSpeed(25e9)).toBe('25G');
    expect(formatIfSpeed(1e8)).toBe('100M');
    expect(formatIfSpeed(1234)).toBe('1234');
  });
});

describe('PrometheusTextWriter', () => {
  it('groups families, writes HELP/TYPE once per family, keeps label order', () => {
    const w = new PrometheusTextWriter();
    w.family('x_bytes', 'gauge', 'Bytes.\nTwo lines \\ here');
    w.add('x_bytes', [['agent', '10.0.0.1'], ['ds', '1']], 1, true);
    w.add('y', [['agent', '10.0.0.1']], 2, true);
    w.add('x_bytes', [['agent', '10.0.0.2'], ['ds', '1']], 3, true);
    expect(w.render()).toBe(
      [
        '# HELP x_bytes Bytes.\\nTwo lines \\\\ here',
        '# TYPE x_bytes gauge',
        'x_bytes{agent="10.0.0.1",ds="1"} 1',
        'x_bytes{agent="10.0.0.2",ds="1"} 3',
        '# HELP y y',
        '# TYPE y gauge',
        'y{agent="10.0.0.1"} 2',
        '',
      ].join('\n'),
    );
  });

  it('drops duplicate series and repeated or empty labels', () => {
    const w = new PrometheusTextWriter({ comments: false });
    expect(w.add('m', [['a', '1']], 1)).toBe(true);
    expect(w.add('m', [['a', '1']], 2)).toBe(false);
    // Names that sanitise to the same series are duplicates too.
    expect(w.add('m', [['a', '1'], ['a', '2']], 3)).toBe(false);
    expect(w.add('m', [['a', '2'], ['b', '']], 4)).toBe(true);
    expect(w.droppedDuplicates).toBe(2);
    expect(w.render()).toBe('m{a="1"} 1.0\nm{a="2"} 4.0\n');
  });

  it('caps the series per answer and counts the rest', () => {
    const w = new PrometheusTextWriter({ maxSeries: 3, comments: false });
    for (let i = 0; i < 10; i++) w.add('m', [['i', String(i)]], i, true);
    expect(w.series).toBe(3);
    expect(w.droppedOverCap).toBe(7);
    expect(w.full).toBe(true);
    expect(w.render().trim().split('\n')).toHaveLength(3);
  });

  it('renders nothing for no series', () => {
    const w = new PrometheusTextWriter();
    w.family('unused', 'gauge', 'never written');
    expect(w.render()).toBe('');
  });

  it.skipIf(PROMTOOL === null)('hostile names and values still pass promtool check metrics', () => {
    const w = new PrometheusTextWriter();
    w.family('weird name-é', 'gauge', 'help with "quotes" and \\ backslash\nnewline');
    w.add('weird name-é', [['la bel', 'v"\\\n'], ['0x', 'é\u0000'], ['__reserved', 'x']], 1.5);
    w.add('ok', [['k', '}{,="']], -0);
    const r = promtoolCheckMetrics(w.render());
    expect(r.status, r.output).toBe(0);
  });
});

describe('FlowExportManager', () => {
  const spec = (keys: string): FlowExportSpec => ({ keys, value: 'bytes', n: 10, t: 15, dropped: false, fs: '_SEP_' });
  function fake() {
    const calls: string[] = [];
    const src: FlowExportSource = {
      ensureFlow: (n, s) => calls.push(`+${n} ${s.keys}`),
      removeFlow: (n) => calls.push(`-${n}`),
      activeFlows: () => [],
    };
    return { calls, src };
  }

  it('creates a flow per distinct spec on first use, reuses it, removes it after 5 idle minutes', () => {
    const { calls, src } = fake();
    const m = new FlowExportManager(src);
    expect(m.flowFor(spec('ipsource'), 0)).toBe('prometheus_0');
    expect(m.flowFor(spec('ipsource'), 1000)).toBe('prometheus_0');
    expect(m.flowFor(spec('ipsource,ipdestination'), 2000)).toBe('prometheus_1');
    expect(m.flowFor({ ...spec('ipsource'), t: 2 }, 2000)).toBe('prometheus_2');
    m.sweep(1000 + 299_999);
    expect(m.names()).toEqual(['prometheus_0', 'prometheus_1', 'prometheus_2']);
    m.sweep(1000 + 300_000);
    expect(m.names()).toEqual(['prometheus_1', 'prometheus_2']);
    m.flowFor(spec('ipsource,ipdestination'), 301_000); // keeps prometheus_1 alive
    m.sweep(302_000);
    expect(m.names()).toEqual(['prometheus_1']);
    expect(m.flowFor(spec('ipsource'), 302_000)).toBe('prometheus_3');
    expect(calls).toEqual(['+prometheus_0 ipsource', '+prometheus_1 ipsource,ipdestination', '+prometheus_2 ipsource', '-prometheus_0', '-prometheus_2', '+prometheus_3 ipsource']);
  });

  it('bounds the number of flows it owns', () => {
    const { src } = fake();
    const m = new FlowExportManager(src, 300_000, 2);
    m.flowFor(spec('a'), 0);
    m.flowFor(spec('b'), 0);
    expect(() => m.flowFor(spec('c'), 0)).toThrow(/too many/);
  });
});
