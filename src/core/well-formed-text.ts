import { InvalidInputError } from '../errors.js';

/**
 * Keys, flow names, step names and idempotence keys are compared byte for byte after a round trip
 * through the store. A string with a lone UTF-16 surrogate (a title cut in the middle of an
 * emoji) has no UTF-8 form: the store would keep U+FFFD instead and never read it back equal.
 * Such strings are refused at the API edge, before anything is written.
 */
export function checkWellFormed(value: string, what: string, code: string): string {
  if (!value.isWellFormed()) {
    const at = firstLoneSurrogate(value);
    throw new InvalidInputError(
      `${what} contains a lone UTF-16 surrogate at index ${at} (a character cut in half, e.g. by truncating an emoji); ` +
        'pass well-formed Unicode (String.prototype.toWellFormed() replaces lone surrogates with U+FFFD)',
      code,
    );
  }
  return value;
}

function firstLoneSurrogate(value: string): number {
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return i;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) return i;
  }
  return -1;
}
