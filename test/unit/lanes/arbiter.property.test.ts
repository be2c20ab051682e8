import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbitrate } from '../../../src/core/lane-lease/arbiter.js';
import { isOnlyGlobs, normalizePath, normalizeTree, prefixesCollide } from '../../../src/core/lane-lease/paths.js';
import type { LaneMode, LiveLease } from '../../../src/model/lane.js';

const rawPath = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.array(fc.constantFrom('src', 'API', 'docs', ' ', '\\', '/', '*', '?', '[', 'a'), { maxLength: 6 }).map((p) => p.join('')),
);
const tree = fc
  .uniqueArray(fc.constantFrom('src', 'src/api', 'src/web', 'docs/', 'docs', '', 'tests/unit'), { maxLength: 3 })
  .map((t) => t.sort());
const mode = fc.constantFrom<LaneMode>('shared', 'exclusive');

function lease(id: number, lane: string, t: readonly string[], m: LaneMode): LiveLease {
  return {
    id,
    lane,
    kind: 'work',
    tree: t,
    mode: m,
    holder: `h${id}`,
    host: 'h',
    pid: 1,
    runId: null,
    ttlMinutes: 50,
    generation: 1,
    acquiredAt: 0,
    beatAt: 0,
  };
}

const leases = fc
  .uniqueArray(fc.record({ id: fc.integer({ min: 1, max: 1000 }), lane: fc.constantFrom('a', 'b', 'c', 'd', 'e'), tree, mode }), {
    selector: (l) => l.id,
    maxLength: 6,
  })
  .map((ls) => ls.map((l) => lease(l.id, l.lane, l.tree, l.mode)));

describe('paths (L1)', () => {
  it('normalisation is idempotent, for a path and for a tree', () => {
    fc.assert(
      fc.property(rawPath, (p) => {
        expect(normalizePath(normalizePath(p))).toBe(normalizePath(p));
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.array(rawPath, { maxLength: 5 }), (t) => {
        expect(normalizeTree(normalizeTree(t))).toEqual(normalizeTree(t));
      }),
      { numRuns: 500 },
    );
  });

  it('folds separators and case, trims, and cuts at the first glob; a leading glob claims everything', () => {
    expect(normalizePath('  Src\\API\\v1 ')).toBe('src/api/v1');
    expect(normalizePath('docs/*.md')).toBe('docs/');
    expect(normalizePath('src/a?c')).toBe('src/a');
    expect(normalizePath('src/[ab]')).toBe('src/');
    expect(normalizePath('**/x')).toBe('');
    expect(prefixesCollide('', 'anything')).toBe(true);
    expect(normalizeTree(['b', 'A', 'a'])).toEqual(['a', 'b']);
    expect(isOnlyGlobs(['*', '**'])).toBe(true);
    expect(isOnlyGlobs(['*', 'src'])).toBe(false);
    expect(isOnlyGlobs([])).toBe(false);
  });
});

describe('arbiter (L1, L2)', () => {
  it('decides the same whatever the order of the live leases', () => {
    fc.assert(
      fc.property(
        leases,
        fc.constantFrom('a', 'x'),
        tree,
        fc.option(mode, { nil: undefined }),
        fc.infiniteStream(fc.nat()),
        (live, lane, t, m, seeds) => {
          const decision = arbitrate({ lane, tree: t, mode: m }, live);
          const it = seeds[Symbol.iterator]();
          const shuffled = [...live]
            .map((l) => ({ l, k: it.next().value as number }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.l);
          expect(arbitrate({ lane, tree: t, mode: m }, shuffled)).toEqual(decision);
          expect(arbitrate({ lane, tree: t, mode: m }, [...live].reverse())).toEqual(decision);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('shared/shared may overlap; any overlap with exclusive is refused; a missing mode is exclusive', () => {
    fc.assert(
      fc.property(tree, tree, mode, fc.option(mode, { nil: undefined }), (held, asked, heldMode, askedMode) => {
        const decision = arbitrate({ lane: 'new', tree: asked, mode: askedMode }, [lease(1, 'old', held, heldMode)]);
        const overlap = asked.some((a) => held.some((h) => prefixesCollide(a, h)));
        const bothShared = heldMode === 'shared' && askedMode === 'shared';
        if (held.length === 0) expect(decision.outcome).toBe('acquire');
        else if (asked.length === 0) expect(decision).toMatchObject({ outcome: 'refuse', reason: 'unscoped_request' });
        else if (overlap && !bothShared)
          expect(decision).toMatchObject({ outcome: 'refuse', reason: 'tree_overlap', colliding: { id: 1 } });
        else expect(decision.outcome).toBe('acquire');
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses a lane that is already held, naming the lease, before any tree rule', () => {
    const held = lease(7, 'api', ['src/api'], 'shared');
    const decision = arbitrate({ lane: 'api', tree: ['docs'], mode: 'shared' }, [lease(9, 'web', ['docs'], 'exclusive'), held]);
    expect(decision).toMatchObject({ outcome: 'refuse', reason: 'lane_held', colliding: { id: 7 } });
    if (decision.outcome === 'refuse') expect(decision.message).toContain('lease #7');
  });

  it('an empty lease tree blocks nothing; an empty request against an empty lease is admitted', () => {
    expect(arbitrate({ lane: 'x', tree: [] }, [lease(1, 'y', [], 'exclusive')]).outcome).toBe('acquire');
    expect(arbitrate({ lane: 'x', tree: ['src'] }, [lease(1, 'y', [], 'exclusive')]).outcome).toBe('acquire');
  });
});
