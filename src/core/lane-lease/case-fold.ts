/**
 * The text fold of tree paths (L1): compatibility decomposition, full case folding and removal of
 * combining marks, so that every spelling the Unicode full case fold (`str.casefold()`) calls
 * equal is equal here too, and more besides. Pure.
 *
 * JavaScript has no full case fold, so it is approximated by `toUpperCase().toLowerCase()` run to a
 * fixed point (`ß` → `SS` → `ss`, `ẞ` → `ß` → `ss`, `ﬁ` → `FI` → `fi`, `İ` → `i̇`, `ı` → `I` → `i`,
 * U+0345 → `Ι` → `ι`), with every final sigma `ς` read as `σ` (the only context-dependent lower
 * casing in JavaScript). The fold is therefore a per-character map: a path that is a prefix of
 * another stays a prefix of it after folding.
 *
 * Composition (NFC, NFKC) is not: `e` is a prefix of `e` + U+0301 but not of their composition `é`.
 * So paths are decomposed (NFKD, which also maps `ﬁ`, full-width and other compatibility forms
 * to their plain letters) and combining marks are then removed, which makes precomposed and
 * combining spellings equal and, more conservatively, makes `é` equal to `e`.
 */

const COMBINING_MARK = /\p{M}/gu;
const FINAL_SIGMA = /ς/g;
/** More rounds than any chain of the case tables needs (the longest, `ẞ` → `ß` → `ss`, is two). */
const MAX_FOLD_ROUNDS = 8;

/** One round of the fold: case both ways, final sigma as sigma, decompose, drop marks. */
function foldOnce(text: string): string {
  return text.toUpperCase().toLowerCase().replace(FINAL_SIGMA, 'σ').normalize('NFKD').replace(COMBINING_MARK, '');
}

/**
 * The folded form of a text: idempotent, and equal for any two texts whose Unicode full case
 * folds are equal (see the module comment for what it equates beyond that).
 */
export function foldPathText(text: string): string {
  let current = text;
  for (let round = 0; round < MAX_FOLD_ROUNDS; round += 1) {
    const next = foldOnce(current);
    if (next === current) return next;
    current = next;
  }
  return current;
}
