/** Turns services' JSON log lines into one readable, aligned, combined log. */
const COLORS = ['\x1b[36m', '\x1b[35m', '\x1b[33m', '\x1b[32m', '\x1b[34m', '\x1b[91m', '\x1b[96m'];
const RESET = '\x1b[0m';
const LEVEL_STYLE: Record<string, string> = { warn: '\x1b[33m', error: '\x1b[31m', fatal: '\x1b[41m' };
const HIDDEN_FIELDS = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname']);

export function formatLogLine(service: string, index: number, line: string, color: boolean): string {
  const name = service.padEnd(13);
  const tag = color ? `${COLORS[index % COLORS.length]}${name}${RESET}` : name;
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${tag} ${line}`;
  }
  const time = typeof record['time'] === 'string' ? record['time'].slice(11, 23) : '';
  const level = String(record['level'] ?? 'info');
  const levelText = level.toUpperCase().padEnd(5);
  const styledLevel = color && LEVEL_STYLE[level] ? `${LEVEL_STYLE[level]}${levelText}${RESET}` : levelText;
  const fields = Object.entries(record)
    .filter(([key]) => !HIDDEN_FIELDS.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${time} ${tag} ${styledLevel} ${String(record['msg'] ?? '')}${fields ? `  ${fields}` : ''}`;
}
