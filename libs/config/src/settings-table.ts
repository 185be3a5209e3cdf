import { ALL_SERVICES, type SettingReader } from './setting.js';
import { SETTINGS, type RegistryEntry } from './registry/index.js';

export const TABLE_BEGIN = '<!-- settings-table: generated from libs/config/src/registry by `npm run docs:settings`; do not edit by hand -->';
export const TABLE_END = '<!-- /settings-table -->';

/** The README's configuration table, one row per registry entry. */
export function renderSettingsTable(entries: readonly RegistryEntry[] = SETTINGS): string {
  const rows = entries.map((entry) => {
    const name = 'pattern' in entry ? entry.pattern : entry.name;
    const readBy = typeof entry.readBy === 'string' ? entry.readBy : readersText(entry.readBy);
    return `| \`${name}\` | ${entry.defaultText} | ${readBy} | ${entry.description.replaceAll('|', '\\|')} |`;
  });
  return [TABLE_BEGIN, '| variable | default | read by | meaning |', '| --- | --- | --- | --- |', ...rows, TABLE_END].join('\n');
}

/** Replaces the table between the markers in a README's text; throws when the markers are missing. */
export function withSettingsTable(readme: string, table = renderSettingsTable()): string {
  const begin = readme.indexOf(TABLE_BEGIN);
  const end = readme.indexOf(TABLE_END);
  if (begin < 0 || end < begin) throw new Error('README.md has no settings-table markers');
  return readme.slice(0, begin) + table + readme.slice(end + TABLE_END.length);
}

function readersText(readers: readonly SettingReader[]): string {
  if (!ALL_SERVICES.every((service) => readers.includes(service))) return readers.join(', ');
  const others = readers.filter((reader) => !(ALL_SERVICES as readonly string[]).includes(reader));
  return ['all services', ...others].join(', ');
}
