// Demo traffic for `sflowscope serve --demo` / `npm run demo`: a simulated cluster sending
// sFlow to the server's own UDP port, plus the DNS responder that names its addresses, all
// in-process. The server starts it after its collector is listening and stops it on shutdown.

import { clusterDnsResponder, type DnsResponder } from './dns-responder.js';
import { ClusterSimulator, type SimulatorOptions, type SimStats } from './simulator.js';
import { UdpSender, type UdpSenderStats } from './udp-sender.js';

export interface DemoTrafficOptions extends SimulatorOptions {
  /** Where the server's sFlow collector listens. Default 127.0.0.1:6343. */
  collectorHost?: string;
  collectorPort?: number;
  /** DNS responder address; port 0 (default) picks a free port, null disables it. */
  dnsHost?: string;
  dnsPort?: number | null;
  /** Simulated seconds per wall second. Default 1. */
  speed?: number;
  /** Let the process exit while the demo runs (the server keeps it alive anyway). Default true. */
  unref?: boolean;
}

export interface DemoTraffic {
  readonly simulator: ClusterSimulator;
  readonly sender: UdpSender;
  readonly dns: DnsResponder | null;
  /** Where to point the server's reverse-DNS resolver (`host:port`), or null. */
  readonly dnsServer: string | null;
  stats(): { simulator: SimStats; sender: UdpSenderStats };
  stop(): Promise<void>;
}

/**
 * Defaults for the demo: a full-size cluster, counters every 10 s so charts fill quickly, and
 * 1-in-1000 sampling so that 1000 datagrams/s stand for GPU-cluster volumes (tens of Gbit/s;
 * the traffic the datagrams describe is about rate x 5 samples x sampling packets per second).
 */
export const DEMO_DEFAULTS: SimulatorOptions = { nodes: 180, rate: 1000, pollingInterval: 10, samplingRate: 1000 };

export async function startDemoTraffic(options: DemoTrafficOptions = {}): Promise<DemoTraffic> {
  const { collectorHost, collectorPort, dnsHost, dnsPort, speed, unref, ...simOptions } = options;
  const simulator = new ClusterSimulator({ ...DEMO_DEFAULTS, startTimeMs: Date.now(), ...simOptions });
  let dns: DnsResponder | null = null;
  if (dnsPort !== null) {
    dns = clusterDnsResponder(simulator.cluster, { host: dnsHost ?? '127.0.0.1', port: dnsPort ?? 0 });
    await dns.start();
  }
  const sender = new UdpSender(simulator, { host: collectorHost ?? '127.0.0.1', port: collectorPort ?? 6343, speed: speed ?? 1, unref: unref ?? true });
  try {
    await sender.start();
  } catch (e) {
    await dns?.stop();
    throw e;
  }
  const dnsServer = dns ? `${dns.address.includes(':') ? `[${dns.address}]` : dns.address}:${dns.port}` : null;
  return {
    simulator,
    sender,
    dns,
    dnsServer,
    stats: () => ({ simulator: simulator.stats(), sender: { ...sender.stats } }),
    async stop() {
      await sender.stop();
      await dns?.stop();
    },
  };
}
