import { describe, expect, it } from 'vitest';
import { DEFAULT_HEALTH_PORTS, DEFAULT_METRICS_PORTS, DEFAULT_PORTS, EPHEMERAL_PORT_RANGE } from './ports.js';

describe('default ports', () => {
  const all = [...Object.values(DEFAULT_PORTS), ...Object.values(DEFAULT_HEALTH_PORTS), ...Object.values(DEFAULT_METRICS_PORTS)];

  it('lie below the ephemeral range, where an outgoing connection could hold one when the mesh starts', () => {
    expect(all.filter((port) => port >= EPHEMERAL_PORT_RANGE.first)).toEqual([]);
  });

  it('are all different', () => {
    expect(new Set(all).size).toBe(all.length);
  });
});
