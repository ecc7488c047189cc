#!/usr/bin/env node
// sflowscope command line: one subcommand per module in src/cli/, loaded on demand so that
// `sflowscope decode` does not pay for the server's dependencies.

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }> = {
  serve: { summary: 'receive sFlow on UDP and serve the REST API, UI and Prometheus export', load: () => import('./serve.js') },
  decode: { summary: 'decode the sFlow datagrams of a pcap/pcapng capture', load: () => import('./decode.js') },
  replay: { summary: "send a capture's sFlow datagrams to a collector over UDP", load: () => import('./replay.js') },
  health: { summary: 'exit 0 when the local server (same options as serve) answers /status', load: () => import('./health.js') },
  sim: { summary: 'simulate a Kubernetes/GPU cluster of Host sFlow agents', load: () => import('./sim.js') },
};

function usage(): string {
  const lines = ['usage: sflowscope <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(8)} ${c.summary}`);
  lines.push('', "run 'sflowscope <command> --help' for a command's options");
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  if (name === '--version' || name === 'version') {
    const { VERSION } = await import('../version.js');
    process.stdout.write(VERSION + '\n');
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`sflowscope: unknown command '${name}'\n${usage()}\n`);
    return 2;
  }
  const mod = await cmd.load();
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`sflowscope: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
