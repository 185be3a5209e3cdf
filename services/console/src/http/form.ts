import type { IncomingMessage } from 'node:http';
import { MayflyError } from '@mayfly/core';

const MAX_FORM_BYTES = 16 * 1024;

/** A submitted form (application/x-www-form-urlencoded, at most 16 KiB); a field given twice is refused. */
export async function readForm(req: IncomingMessage): Promise<Map<string, string>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new MayflyError('ERR_INVALID_ARGUMENT', 'forms are posted as application/x-www-form-urlencoded');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new MayflyError('ERR_INVALID_ARGUMENT', `the form is larger than ${MAX_FORM_BYTES} bytes`);
    chunks.push(chunk);
  }
  const fields = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) {
    if (fields.has(name)) throw new MayflyError('ERR_INVALID_ARGUMENT', `the form gives ${name} twice`);
    fields.set(name, value);
  }
  return fields;
}
