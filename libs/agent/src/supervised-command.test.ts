import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@mayfly/core';
import { SupervisedCommand, type CommandExit } from './supervised-command.js';

const log = createLogger('agent-test', { level: 'silent' });
const script = (file: string) => [
  process.execPath,
  '-e',
  `const fs=require('node:fs');fs.appendFileSync(${JSON.stringify(file)},'start '+process.env.TOKEN+'\\n');process.on('SIGHUP',()=>fs.appendFileSync(${JSON.stringify(file)},'hup\\n'));process.on('SIGTERM',()=>{fs.appendFileSync(${JSON.stringify(file)},'term\\n');process.exit(0)});setInterval(()=>{},1000);`,
];
const until = async (probe: () => boolean) => {
  for (let i = 0; i < 200 && !probe(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(probe()).toBe(true);
};
const lines = (file: string) => {
  try {
    return readFileSync(file, 'utf8').trim().split('\n');
  } catch {
    return [];
  }
};

describe('the command the agent runs', () => {
  it('is signalled on rotation, restarted with the new environment, and stopped with SIGTERM — none of which counts as its own exit', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mayfly-cmd-')), 'log');
    const exits: CommandExit[] = [];
    const command = new SupervisedCommand(script(file), log, (exit) => exits.push(exit));
    command.start({ TOKEN: 'one' });
    await until(() => lines(file).includes('start one'));
    command.signal('SIGHUP');
    await until(() => lines(file).includes('hup'));
    await command.restart({ TOKEN: 'two' });
    await until(() => lines(file).includes('start two'));
    expect(await command.stop()).toEqual({ code: 0, signal: null });
    expect(lines(file)).toEqual(['start one', 'hup', 'term', 'start two', 'term']);
    expect(exits).toEqual([]);
  });

  it('reports the exit of a command that ends by itself, with its code', async () => {
    const exits: CommandExit[] = [];
    const command = new SupervisedCommand([process.execPath, '-e', 'process.exit(7)'], log, (exit) => exits.push(exit));
    command.start({});
    await until(() => exits.length === 1);
    expect(exits[0]).toEqual({ code: 7, signal: null });
  });
});
