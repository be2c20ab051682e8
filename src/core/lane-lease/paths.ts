/**
 * Trees and overlap (L1). A tree is a list of path prefixes. Normalisation: `\` becomes `/`, the
 * path is trimmed and case-folded, and cut at its first glob character (`*`, `?`, `[`); a path that
 * starts with a glob is cut to `''`, the prefix of everything. Two prefixes collide when either
 * starts with the other. Pure.
 */

const GLOB = /[*?[]/;

/** The normal form of one path prefix. Idempotent. `''` means "everything". */
export function normalizePath(path: string): string {
  const folded = path.replace(/\\/g, '/').trim().toLowerCase();
  const glob = folded.search(GLOB);
  return (glob === -1 ? folded : folded.slice(0, glob)).trim();
}

/**
 * The normal form of a tree: every path normalised, duplicates removed, sorted. Idempotent. A
 * path that normalises to `''` (a leading glob) claims everything; the service refuses blank paths
 * as input before they get here.
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

/** The first colliding pair of prefixes of two normalised trees, in sorted order, if any. */
export function firstOverlap(a: readonly string[], b: readonly string[]): readonly [string, string] | undefined {
  for (const x of [...a].sort()) {
    for (const y of [...b].sort()) {
      if (prefixesCollide(x, y)) return [x, y];
    }
  }
  return undefined;
}
