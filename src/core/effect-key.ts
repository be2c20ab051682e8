import { HoldfastError } from '../errors.js';

/** An effect key names one action of one effect: reusing it under another effect name is a mistake. */
export function effectKeyConflict(effectKey: string, existingName: string, name: string): HoldfastError {
  return new HoldfastError(
    'effect_key_conflict',
    `effect key ${JSON.stringify(effectKey)} belongs to effect "${existingName}", not "${name}"; give each kind of effect its own keys`,
  );
}
