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
import { isRegistrationMode, parseRegisteredAgentArgs } from './registration/registration-cli.ts';
import { startRegisteredAgent } from './registration/registered-agent.ts';

/** What main drives: a plain agent or a registered one (same lifecycle calls). */
interface Running {
  ready(): Promise<void>;
  drain(): Promise<void>;
  destroy(): void;
}

function start(): Running {
  const argv = process.argv.slice(2);
  try {
    if (isRegistrationMode(argv)) {
      const registered = startRegisteredAgent(parseRegisteredAgentArgs(argv));
      return {
        ready: () => registered.ready(),
        drain: () => registered.drain(),
        destroy: () => void registered.close(),
      };
    }
    return startProxyAgent(parseAgentArgs(argv));
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
  // A failed health listener, a refused registration or a stop makes ready() reject; each
  // ends the process.
  if (signals === 0) {
    process.stderr.write(`${isAgentError(err) ? `${err.code}: ` : ''}${toError(err).message}\n`);
    process.exit(1);
  }
});
