import { join } from 'node:path';
import { printTraces } from '@mayfly/mesh';
import type { CommandContext } from '../command.js';
import { wholeNumber } from '../flags.js';

/** `mayfly traces show [N] [--all]`: the last N grant traces (--all: any trace) of MAYFLY_TRACES_FILE as timed trees. */
export async function show(context: CommandContext): Promise<void> {
  const file = process.env['MAYFLY_TRACES_FILE'] ?? join(context.stateDir, 'traces.jsonl');
  await printTraces(file, wholeNumber(context.args[0], 'the number of traces', { min: 1, max: 1_000 }, 3), (line) => context.out.say(line), { all: context.flags.all });
}
