import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { maskDashedWords } from './flags.js';

const OPTIONS = { reason: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

/** As the CLI parses: masked words through node:util, then unmasked. */
function parse(argv: string[]) {
  const { args, unmask } = maskDashedWords(argv);
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: OPTIONS });
  return { reason: values.reason === undefined ? undefined : unmask(values.reason), json: values.json, help: values.help, positionals: positionals.map(unmask) };
}

describe('maskDashedWords', () => {
  it('keeps a key id that starts with a dash a word, not a cluster of short flags', () => {
    // Unmasked, node:util reads "-VoT…" as -V -o -T … and refuses "-V".
    expect(() => parseArgs({ args: ['revoke', 'key', '-VoTCLv2OaKEa6id', '--json'], allowPositionals: true, options: OPTIONS })).toThrow(/Unknown option '-V'/);
    expect(parse(['revoke', 'key', '-VoTCLv2OaKEa6id', '--reason', 'key file leaked', '--json'])).toEqual({
      reason: 'key file leaked',
      json: true,
      help: undefined,
      positionals: ['revoke', 'key', '-VoTCLv2OaKEa6id'],
    });
  });

  it('lets a flag take a value that starts with a dash, and leaves real flags alone', () => {
    expect(parse(['revoke', 'grant', 'g1', '--reason', '-- see INC-42'])).toMatchObject({ reason: '-- see INC-42' });
    expect(parse(['revoke', 'grant', 'g1', '--reason', '-leaked']).reason).toBe('-leaked');
    expect(parse(['audit', '-h']).help).toBe(true);
    expect(() => parse(['audit', '--nope'])).toThrow(/Unknown option '--nope'/);
  });
});
