// Run a simulator for a stretch of simulated time and write what it sends to a pcap file,
// as fast as it can be generated (timestamps are the simulated send times).

import { PcapFileWriter, type PcapWriterOptions, type UdpEndpoint } from './pcap-writer.js';
import type { ClusterSimulator, SimDatagram } from './simulator.js';

export interface SimulationCaptureOptions extends PcapWriterOptions {
  /** Simulated time to cover, ms. */
  durationMs: number;
  /** Destination of the datagrams. Default 127.0.0.1:6343. */
  collector?: UdpEndpoint;
}

export interface SimulationCaptureResult {
  packets: number;
  bytes: number;
}

export async function writeSimulationPcap(sim: ClusterSimulator, path: string, options: SimulationCaptureOptions): Promise<SimulationCaptureResult> {
  const out = await PcapFileWriter.create(path, options);
  const collector = options.collector ?? { ip: '127.0.0.1', port: 6343 };
  const end = sim.now + options.durationMs;
  const batch: SimDatagram[] = [];
  try {
    while (sim.now < end) {
      // a second of simulated time at a time keeps memory flat
      sim.advance(Math.min(end, sim.now + 1000), (d) => batch.push(d));
      for (const d of batch) await out.writeUdp(d.timeMs, { ip: d.agent, port: d.srcPort }, collector, d.bytes);
      batch.length = 0;
    }
  } finally {
    await out.close();
  }
  return { packets: out.packets, bytes: out.bytes };
}
