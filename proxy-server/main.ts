/**
 * The proxy-server process: flags/env → options → start → signals. The first SIGTERM/SIGINT
 * closes gracefully (open streams get `--shutdown-timeout-ms`); a second one aborts at once.
 *
 *   node proxy-server/main.ts --cert server.crt --key server.key --ca ca.crt
 */
import { readFileSync } from 'node:fs';

import { buildServerCommand, optionsFromFlags } from './cli-options.ts';
import type { ServerFlags } from './cli-options.ts';
import { errorMessage } from './errors.ts';
import { startProxyServer } from './proxy-server.ts';

async function main(): Promise<void> {
  const command = buildServerCommand().parse(process.argv);
  const options = optionsFromFlags(command.opts<ServerFlags>(), (path) =>
    readFileSync(path, 'utf8'),
  );
  const server = await startProxyServer(options);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      server.destroy(new Error(`second ${signal}`));
      process.exit(1);
    }
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((err: unknown) => {
  process.stderr.write(`proxy-server: ${errorMessage(err)}\n`);
  process.exit(1);
});
