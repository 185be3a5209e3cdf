import { describe, expect, it } from 'vitest';
import { parseNatsUrl } from './connection.js';

describe('parseNatsUrl', () => {
  it('lifts credentials out of the URL and never shows the password', () => {
    const parsed = parseNatsUrl('nats://edge:s3cr%40t@10.0.0.5:4223');
    expect(parsed).toMatchObject({ servers: ['10.0.0.5:4223'], user: 'edge', pass: 's3cr@t' });
    expect(parsed.display).toBe('10.0.0.5:4223 (as edge)');
    expect(parsed.display).not.toContain('s3cr');
  });

  it('takes several servers, with or without scheme and port', () => {
    expect(parseNatsUrl('nats://a:4222,b,nats://c:5000')).toMatchObject({ servers: ['a:4222', 'b:4222', 'c:5000'], display: 'a:4222,b:4222,c:5000' });
    expect(parseNatsUrl('nats://127.0.0.1:4222').user).toBeUndefined();
  });
});
