import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { SECURITY_HEADERS } from './responses.js';

const TYPES: Readonly<Record<string, string>> = { 'console.js': 'text/javascript; charset=utf-8', 'console.css': 'text/css; charset=utf-8' };

/** The console's script and stylesheet (services/console/assets), read once at start: the only script the CSP lets pages run. */
export class ConsoleAssets {
  private readonly files = new Map<string, Buffer>();

  constructor(directory = new URL('../../assets/', import.meta.url)) {
    for (const name of Object.keys(TYPES)) this.files.set(name, readFileSync(new URL(name, directory)));
  }

  send(res: ServerResponse, name: string): void {
    const body = this.files.get(name);
    if (!body) return void res.writeHead(404, SECURITY_HEADERS).end();
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': TYPES[name]!, 'cache-control': 'max-age=300' }).end(body);
  }
}
