// `sflowscope serve`: receive sFlow, serve the REST API until SIGTERM/SIGINT.

import { startServer, type RunningServer } from '../app.js';
import { appRoutes } from '../api/apps.js';
import { staticRoutes } from '../api/static.js';
import { ConfigError, parseServeArgs, serveHelp } from '../config.js';
import { createLogger } from '../log.js';
import { VERSION } from '../version.js';

/** Run the server; resolves with the exit code once it has shut down (0 after SIGTERM/SIGINT). */
export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseServeArgs(argv);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`sflowscope serve: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (parsed.help) {
    process.stdout.write(`${serveHelp()}\n`);
    return 0;
  }
  if (parsed.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (parsed.positional.length > 0) {
    process.stderr.write(`sflowscope serve: unexpected argument ${JSON.stringify(parsed.positional[0])} (see --help)\n`);
    return 2;
  }
  const config = parsed.config;
  const logger = createLogger(config.logLevel);
  logger.info({ version: VERSION, node: process.version, pid: process.pid }, `Starting sflowscope ${VERSION}`);

  let server: RunningServer;
  try {
    server = await startServer({ ...config, logger, apiPlugins: [appRoutes({ flows: (ctx) => ctx.flows?.appSource('apps') ?? null }), staticRoutes()] });
  } catch (err) {
    logger.fatal({ err }, 'cannot start');
    return 1;
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        resolve(1);
        return;
      }
      stopping = true;
      logger.info({ signal }, 'shutting down');
      server.stop().then(
        () => {
          logger.info('stopped');
          logger.flush();
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          resolve(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
