/**
 * The agent process: flags → options → startProxyAgent → signal handling.
 * First SIGTERM/SIGINT: drain (DRAIN on every tunnel, wait for open streams), then exit 0.
 * Second signal: exit 1 at once.
 *
 *   node proxy-agent/main.ts --cluster-name c1 --agent-name a0 --server hub:8091 \
 *     --cert agent.crt --key agent.key --ca ca.crt --kube-apiserver 127.0.0.1:6443
 */
import { CommanderError } from 'commander';

import { parseAgentArgs } from './cli-options.ts';
import { isAgentError, toError } from './errors.ts';
import { startProxyAgent } from './proxy-agent.ts';
import type { ProxyAgent } from './proxy-agent.ts';

function start(): ProxyAgent {
  try {
    return startProxyAgent(parseAgentArgs(process.argv.slice(2)));
  } catch (err: unknown) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    process.stderr.write(`${isAgentError(err) ? `${err.code}: ` : ''}${toError(err).message}\n`);
    process.exit(2);
  }
}

const agent = start();
let signals = 0;
const onSignal = (signal: NodeJS.Signals): void => {
  signals += 1;
  if (signals > 1) {
    process.stderr.write(`${signal} again: exiting now\n`);
    agent.destroy();
    process.exit(1);
  }
  agent.drain().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
agent.ready().catch((err: unknown) => {
  // Only a failed health listener or a stop makes ready() reject; both end the process.
  if (signals === 0) {
    process.stderr.write(`${toError(err).message}\n`);
    process.exit(1);
  }
});
