import { join } from 'node:path';
import { printTraces } from '@mayfly/mesh';
import type { CommandContext } from '../command.js';

/** `mayfly traces show [N]`: the last N traces of MAYFLY_TRACES_FILE as timed trees. */
export async function show(context: CommandContext): Promise<void> {
  const file = process.env['MAYFLY_TRACES_FILE'] ?? join(context.stateDir, 'traces.jsonl');
  await printTraces(file, Number(context.args[0] ?? 3), (line) => context.out.say(line));
}
