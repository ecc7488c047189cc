import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BIND_OPTION, ConfigError, DEFAULT_CONFIG, OPTIONS, parseBytes, parseDuration, parseServeArgs, serveHelp } from './config.js';
import { allCounterMetricNames, describeConverters } from './engine/metrics/converters.js';

describe('serve options', () => {
  it('defaults', () => {
    expect(parseServeArgs([], {}).config).toEqual(DEFAULT_CONFIG);
  });

  it('flags over environment over defaults; --bind sets both addresses unless one is given', () => {
    const { config } = parseServeArgs(['--sflow-port', '9999', '--bind=127.0.0.1', '--http-bind', '::1', '--pcap-hold-clock', '--agent-timeout', '5m'], {
      SFLOWSCOPE_SFLOW_PORT: '7000',
      SFLOWSCOPE_HTTP_PORT: '9000',
      SFLOWSCOPE_MAX_AGENTS: '12',
      SFLOWSCOPE_UDP_RECV_BUFFER: '16MiB',
    });
    expect(config.sflowPort).toBe(9999);
    expect(config.httpPort).toBe(9000);
    expect(config.sflowBind).toBe('127.0.0.1');
    expect(config.httpBind).toBe('::1');
    expect(config.pcapHoldClock).toBe(true);
    expect(config.agentTimeoutMs).toBe(300_000);
    expect(config.maxAgents).toBe(12);
    expect(config.udpRecvBuffer).toBe(16 * 1024 * 1024);
  });

  it('rejects bad values and unknown options', () => {
    for (const args of [['--sflow-port', '70000'], ['--pcap-pace', 'fast'], ['--max-agents', '0'], ['--agent-timeout', 'soon'], ['--what'], ['--http-port']]) {
      expect(() => parseServeArgs(args, {}), args.join(' ')).toThrow(ConfigError);
    }
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2')).toBe(2000);
    expect(parseBytes('512KiB')).toBe(524288);
  });

  it('--help and docs/configuration.md list every option and variable', () => {
    const help = serveHelp();
    const doc = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
    for (const o of [...OPTIONS, BIND_OPTION]) {
      expect(help).toContain(o.flag);
      expect(help).toContain(o.env);
      expect(doc, o.flag).toContain(`\`${o.flag}\``);
      expect(doc, o.env).toContain(`\`${o.env}\``);
    }
  });
});

describe('docs/metrics.md', () => {
  it('documents every metric name the converters produce', () => {
    const doc = readFileSync(new URL('../docs/metrics.md', import.meta.url), 'utf8');
    const physical = new Set(describeConverters().filter((c) => !c.virtual).flatMap((c) => c.fields.filter((f) => !f.hidden).map((f) => f.name)));
    for (const name of allCounterMetricNames()) {
      // Host structures on virtual entities: documented once, with the vir_ prefix rule.
      const documented = doc.includes(`\`${name}\``) || (name.startsWith('vir_') && physical.has(name.slice(4)) && doc.includes(`\`${name.slice(4)}\``));
      expect(documented, name).toBe(true);
    }
    expect(doc).toContain('take a `vir_` prefix');
  });
});
