import { isOnlyGlobs, normalizeTree, pathRefusal } from './paths.js';
import { InvalidInputError } from '../../errors.js';
import { LanePathRefusedError } from '../../lane-errors.js';
import { LANE_MODES, type LaneMode } from '../../model/lane.js';

/**
 * Input checks of lane requests (the lane service and `ctx.lane`). Each throws InvalidInputError
 * naming the bad field; nothing is written. Pure.
 */

export function checkLane(lane: unknown, field = 'lane'): string {
  if (typeof lane !== 'string' || lane.trim() === '') {
    throw new InvalidInputError(`${field} is empty; name the lane (for example "api")`, 'invalid_lane');
  }
  return lane.trim();
}

export function checkOwner(owner: unknown, field = 'owner'): string {
  if (typeof owner !== 'string' || owner.trim() === '') {
    throw new InvalidInputError(`${field} is empty; pass who holds the lease (for example "worker-1")`, 'invalid_owner');
  }
  return owner.trim();
}

export function checkMode(mode: unknown): LaneMode | undefined {
  if (mode === undefined) return undefined;
  if (typeof mode !== 'string' || !(LANE_MODES as readonly string[]).includes(mode)) {
    throw new InvalidInputError(`mode ${JSON.stringify(mode)} is unknown; use "shared" or "exclusive" (the default)`, 'invalid_mode');
  }
  return mode as LaneMode;
}

/**
 * A tree of path prefixes: no blank path, not only globs, none leaving the tree (absolute, or
 * climbing above the root with `..`: LanePathRefusedError). Returns its normal form. Only new
 * requests pass here; journaled trees are never checked again (see normalizePath).
 */
export function checkTree(tree: unknown): string[] {
  if (!Array.isArray(tree) || !tree.every((p) => typeof p === 'string')) {
    throw new InvalidInputError('tree must be a list of path prefixes (for example ["src/api", "docs/"])', 'invalid_tree');
  }
  const blank = tree.findIndex((p: string) => p.trim() === '');
  if (blank !== -1) throw new InvalidInputError(`tree path #${blank + 1} is blank; remove it or name a path prefix`, 'invalid_tree');
  if (isOnlyGlobs(tree)) {
    throw new InvalidInputError(
      `tree [${tree.join(', ')}] is only globs, which would claim everything; name the path prefixes the work touches`,
      'invalid_tree',
    );
  }
  for (const path of tree) {
    const refusal = pathRefusal(path);
    if (refusal !== undefined) throw new LanePathRefusedError(path, refusal);
  }
  return normalizeTree(tree);
}

export function checkPositive(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidInputError(`${field} ${JSON.stringify(value)} is not a positive number`, `invalid_${field}`);
  }
  return value;
}

export function checkNonNegative(value: unknown, field: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidInputError(`${field} ${JSON.stringify(value)} is not a number of milliseconds >= 0`, `invalid_${field}`);
  }
  return value;
}

export function checkLeaseId(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || (value as number) <= 0) {
    throw new InvalidInputError(`lease ${JSON.stringify(value)} is not a lease id (a positive integer)`, 'invalid_lease');
  }
  return value as number;
}

export function optionalText(value: unknown, field: string): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw new InvalidInputError(`${field} must be text`, `invalid_${field}`);
  return value;
}
