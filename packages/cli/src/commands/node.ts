import type { Command } from 'commander';

/** `mutual node` is listed here for help; run() hands its arguments to the daemon untouched. */
export function nodeCommand(program: Command): void {
  program
    .command('node')
    .description('run the bank node (the daemon); `mutual node --help` lists its options')
    .allowUnknownOption()
    .allowExcessArguments()
    .helpOption(false)
    .argument('[args...]', 'the options of the daemon');
}
