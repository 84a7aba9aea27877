import { Command } from 'commander';

import { registerGetCommand } from './get-command.ts';
import { registerHubCommand } from './hub-command.ts';
import { registerKubeconfigCommand } from './kubeconfig-command.ts';
import { registerRegistrationCommands } from './registration-commands.ts';
import { registerSandboxCommands } from './sandbox-command.ts';

const program = new Command();
program
  .name('spokelink')
  .description('Run many Kubernetes clusters from one hub over one reverse tunnel per cluster.')
  .showHelpAfterError()
  .addHelpText(
    'after',
    '\nTunnel processes (own flags, see --help of each):\n  spokelink proxy-server   the hub side of the tunnel\n  spokelink agent          the spoke side of the tunnel',
  );
registerSandboxCommands(program);
registerKubeconfigCommand(program);
registerGetCommand(program);
registerRegistrationCommands(program);
registerHubCommand(program);

await program.parseAsync(process.argv);
