import { describe, expect, it } from 'vitest';
import { openEventLoopDelayMonitor } from '../../../src/platform/event-loop-delay.js';

describe('event-loop delay monitor', () => {
  it('reports a blocked loop as delay (in seconds, the timer resolution left out), then starts a new window', async () => {
    const monitor = openEventLoopDelayMonitor(10);
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const blockedUntil = Date.now() + 120;
      while (Date.now() < blockedUntil) {
        // keep the loop busy
      }
      await new Promise((resolve) => setTimeout(resolve, 30));
      const sample = monitor.take();
      expect(sample.count).toBeGreaterThan(0);
      expect(sample.max).toBeGreaterThan(0.08);
      expect(sample.max).toBeLessThan(1);
      expect(sample.p50).toBeLessThan(sample.max);
      expect(monitor.take()).toEqual({ p50: 0, p90: 0, p99: 0, max: 0, mean: 0, count: 0 }); // a new, empty window
    } finally {
      monitor.close();
    }
  });
});
