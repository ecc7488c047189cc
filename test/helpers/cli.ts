// Runs one of our CLI commands in this process: `node --import tsx test/helpers/cli.ts serve|replay ...`.
const [cmd, ...args] = process.argv.slice(2);
const mod = cmd === 'serve' ? await import('../../src/cli/serve.js') : cmd === 'replay' ? await import('../../src/cli/replay.js') : null;
if (mod === null) {
  process.stderr.write(`unknown command ${cmd}\n`);
  process.exitCode = 2;
} else {
  process.exitCode = await mod.run(args);
}
