import { Command } from 'commander';

import { registerSandboxCommands } from './sandbox-command.ts';

const program = new Command();
program
  .name('spokelink')
  .description('Run many Kubernetes clusters from one hub over one reverse tunnel per cluster.')
  .showHelpAfterError();
registerSandboxCommands(program);

await program.parseAsync(process.argv);
