import type { Command } from './command.js';

/** Every command, by noun and verb. */
export type CommandTable = Readonly<Record<string, Readonly<Record<string, Command>>>>;

/** The flags a command's summary names (each summary lists the flags its command reads). */
export function flagsOf(command: Command): string[] {
  return [...new Set([...command.summary.matchAll(/--[a-z][a-z-]*/g)].map((match) => match[0]))];
}

/** `mayfly <noun> --help`: the noun's verbs. */
export function nounHelp(commands: CommandTable, noun: string): string {
  const verbs = commands[noun] ?? {};
  const width = Math.max(...Object.keys(verbs).map((verb) => verb.length));
  return [
    `usage: mayfly ${noun} <verb> [flags] [--json]`,
    '',
    ...Object.entries(verbs).map(([verb, command]) => `  ${verb.padEnd(width)}  ${command.summary}`),
    '',
    `mayfly ${noun} <verb> --help: one verb's help`,
  ].join('\n');
}

/** `mayfly <noun> <verb> --help`: what the command does and the flags it reads. */
export function verbHelp(noun: string, verb: string, command: Command): string {
  const flags = flagsOf(command);
  return [
    `usage: mayfly ${noun} ${verb}${flags.length > 0 ? ' [flags]' : ''} [--json]`,
    '',
    `  ${command.summary}`,
    '',
    `flags: ${[...flags, '--json (one JSON document on stdout, for scripts)'].join(', ')}`,
  ].join('\n');
}

/** Levenshtein distance: how many single-letter edits turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The candidate nearest to `word` (a typo, a singular for a plural, a prefix), if any is near. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  const prefixed = candidates.filter((candidate) => candidate.startsWith(word) || word.startsWith(candidate));
  if (prefixed.length === 1) return prefixed[0];
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(word.length / 3)) ? best.candidate : undefined;
}

/** Why the words do not name a command, and the nearest that does; undefined when they do. */
export function unknownCommand(commands: CommandTable, noun: string, verb: string | undefined): string | undefined {
  const verbs = commands[noun];
  if (!verbs) {
    const guess = nearest(noun, Object.keys(commands));
    return `unknown command "${noun}"${guess ? ` — did you mean "mayfly ${guess}"?` : ''} (mayfly --help lists every command)`;
  }
  if (verb === undefined || verbs[verb]) return undefined;
  const guess = nearest(verb, Object.keys(verbs));
  return `"mayfly ${noun}" has no verb "${verb}"${guess ? ` — did you mean "mayfly ${noun} ${guess}"?` : ''} (its verbs: ${Object.keys(verbs).join(', ')})`;
}
