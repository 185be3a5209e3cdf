import { readFileSync, writeFileSync } from 'node:fs';
import { withSettingsTable } from './settings-table.js';

/** `npm run docs:settings`: rewrites the README's settings table from the registry. */
const path = process.argv[2] ?? 'README.md';
const before = readFileSync(path, 'utf8');
const after = withSettingsTable(before);
writeFileSync(path, after);
console.log(before === after ? `${path}: settings table already current` : `${path}: settings table rewritten from libs/config/src/registry`);
