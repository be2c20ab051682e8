import type { LiveLease } from '../../model/lane.js';

/**
 * Lane generations (L8). Every acquire of a lane bumps its generation, so work stamped with a
 * generation can be fenced: it may proceed only while that generation is the lane's current one
 * and a live lease holds it. Anything else, including a lane that never resolved, is refused
 * (fail closed). Pure.
 */

export type GenerationVerdict =
  | { readonly ok: true; readonly generation: number; readonly lease: LiveLease }
  | {
      readonly ok: false;
      readonly reason: 'superseded' | 'unknown_generation' | 'not_held' | 'unresolved';
      readonly current: number | null;
      readonly message: string;
    };

export function checkGeneration(
  lane: string,
  stamped: number,
  current: number | undefined,
  liveOnLane: LiveLease | undefined,
): GenerationVerdict {
  if (current === undefined || !Number.isInteger(stamped)) {
    return {
      ok: false,
      reason: 'unresolved',
      current: current ?? null,
      message: `lane "${lane}" has no generation to check ${stamped} against; refuse the work`,
    };
  }
  if (stamped < current) {
    return {
      ok: false,
      reason: 'superseded',
      current,
      message: `generation ${stamped} of lane "${lane}" was superseded by ${current}; drop the work, the lane was acquired again`,
    };
  }
  if (stamped > current) {
    return {
      ok: false,
      reason: 'unknown_generation',
      current,
      message: `generation ${stamped} of lane "${lane}" was never issued (current ${current}); refuse the work`,
    };
  }
  if (liveOnLane === undefined || liveOnLane.generation !== current) {
    return {
      ok: false,
      reason: 'not_held',
      current,
      message: `generation ${stamped} of lane "${lane}" is no longer held (released or scavenged); acquire the lane again`,
    };
  }
  return { ok: true, generation: current, lease: liveOnLane };
}
