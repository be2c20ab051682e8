import type { Random } from '../ports/clock.js';

/**
 * A deterministic Random: the same seed gives the same sequence of numbers and ids on every run
 * and platform. `next()` is mulberry32 (32-bit state, fast, good enough for scheduling choices,
 * not for cryptography); `uuid()` draws 128 bits from it and formats them as a version-4 UUID.
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const hex8 = () => nextUint32().toString(16).padStart(8, '0');
  return {
    next: () => nextUint32() / 4294967296,
    uuid() {
      const h = hex8() + hex8() + hex8() + hex8();
      const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
    },
  };
}
