import { foldPathText } from './case-fold.js';

/**
 * Trees and overlap (L1). A tree is a list of path prefixes, relative to the root of the tree the
 * lanes share. The normal form of a path (docs/lanes.md has the table of rules):
 *
 * - its text is folded (see case-fold.ts): `Straße`, `STRASSE` and `strasse` are one path;
 * - `\` becomes `/`, and the path is trimmed and cut at its first glob character (`*`, `?`, `[`);
 *   a path that starts with a glob is cut to `''`, the prefix of everything;
 * - empty, blank and `.` segments are dropped, each segment is trimmed, and `..` removes the
 *   segment before it (`a/b/../c` is `a/c`);
 * - a path that names a directory (ends with `/`, `/.` or `/..`) keeps one trailing `/`.
 *
 * A path that leaves the tree is refused: an absolute one (`/etc`, `C:\x`, `\\server\share`) or one
 * whose `..` climbs above the root (`../x`, `a/../../x`). Two normal prefixes collide when either
 * starts with the other. Pure.
 */

const GLOB = /[*?[]/;
const DRIVE = /^[a-z]:/;

/** A path's normal form, or why it is refused. */
type PathForm = { readonly normal: string; readonly refusal?: undefined } | { readonly normal?: undefined; readonly refusal: string };

/** Normalises one path, or says why it cannot be a tree path. */
function formOf(path: string): PathForm {
  const text = foldPathText(path).replace(/\\/g, '/').trim();
  if (text.startsWith('/')) return { refusal: 'is absolute' };
  const glob = text.search(GLOB);
  const cut = glob === -1 ? text : text.slice(0, glob);
  const raw = cut.split('/').map((segment) => segment.trim());
  const kept: string[] = [];
  for (const segment of raw) {
    if (segment === '' || segment === '.') continue;
    if (segment !== '..') kept.push(segment);
    else if (kept.pop() === undefined) return { refusal: 'climbs out of the tree root with ".."' };
  }
  if (kept.length > 0 && DRIVE.test(kept[0] as string)) return { refusal: 'names a drive' };
  const last = raw[raw.length - 1];
  const namesDirectory = raw.length > 1 && (last === '' || last === '.' || last === '..');
  const joined = kept.join('/');
  return { normal: namesDirectory && joined !== '' ? `${joined}/` : joined };
}

/**
 * Why a path cannot be a tree path (it is absolute, names a drive, or climbs out of the root with
 * `..`), or `undefined` when it can.
 */
export function pathRefusal(path: string): string | undefined {
  return formOf(path).refusal;
}

/**
 * The normal form of one path prefix. Idempotent and total: a path that `pathRefusal` refuses
 * normalises to `''`, the prefix of everything, so that a tree stored before such paths were
 * refused still blocks, never admits, whatever it may overlap.
 */
export function normalizePath(path: string): string {
  return formOf(path).normal ?? '';
}

/**
 * The normal form of a tree: every path normalised, duplicates removed, sorted. Idempotent. A
 * path that normalises to `''` (a leading glob, or `.`) claims everything; the service refuses
 * blank paths and paths that leave the tree as input before they get here.
 */
export function normalizeTree(tree: readonly string[]): string[] {
  return [...new Set(tree.map(normalizePath))].sort();
}

/**
 * Whether every path of a tree is only glob characters (`*`, `**`, `?`): such a tree would claim
 * everything by accident, so the service refuses it as input. `[]` is not "only globs".
 */
export function isOnlyGlobs(tree: readonly string[]): boolean {
  return tree.length > 0 && tree.every((p) => /^[\s*?/\\]*$/.test(p) && /[*?]/.test(p));
}

/** Whether two normalised prefixes collide: either starts with the other. */
export function prefixesCollide(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/**
 * The first colliding pair of prefixes of two trees, in sorted order, if any. Both trees are
 * normalised again first (a no-op on trees in today's normal form), so a tree journaled under an
 * older, looser normal form (`./docs`, `straße`) is still compared as today's.
 */
export function firstOverlap(a: readonly string[], b: readonly string[]): readonly [string, string] | undefined {
  for (const x of normalizeTree(a)) {
    for (const y of normalizeTree(b)) {
      if (prefixesCollide(x, y)) return [x, y];
    }
  }
  return undefined;
}
