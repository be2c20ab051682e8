import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbitrate } from '../../../src/core/lane-lease/arbiter.js';
import { foldPathText } from '../../../src/core/lane-lease/case-fold.js';
import { firstOverlap, normalizePath, normalizeTree, pathRefusal, prefixesCollide } from '../../../src/core/lane-lease/paths.js';
import { LanePathRefusedError } from '../../../src/lane-errors.js';
import { checkTree } from '../../../src/lanes/validate.js';
import type { LiveLease } from '../../../src/model/lane.js';
import { referenceCaseFold } from './reference-case-fold.js';

/**
 * The reference lane-lease module's rules (L1): `\` to `/`, trimmed, full Unicode case fold, cut
 * at the first glob character; two prefixes collide when either starts with the other.
 */
function referenceNormalize(path: string): string {
  const folded = referenceCaseFold(path.replace(/\\/g, '/').trim());
  const glob = folded.search(/[*?[]/);
  return (glob === -1 ? folded : folded.slice(0, glob)).trim();
}

function referenceCollide(a: string, b: string): boolean {
  const x = referenceNormalize(a);
  const y = referenceNormalize(b);
  return x.startsWith(y) || y.startsWith(x);
}

/** Whether holdfast keeps two raw paths apart: false when they collide or either is refused. */
function holdfastAdmitsBoth(a: string, b: string): boolean {
  if (pathRefusal(a) !== undefined || pathRefusal(b) !== undefined) return false;
  return !prefixesCollide(normalizePath(a), normalizePath(b));
}

function lease(tree: readonly string[]): LiveLease {
  return {
    id: 1,
    lane: 'held',
    kind: 'work',
    tree,
    mode: 'exclusive',
    holder: 'w1',
    host: 'h',
    pid: 1,
    runId: null,
    ttlMinutes: 50,
    generation: 1,
    acquiredAt: 0,
    beatAt: 0,
  };
}

describe('tree normalisation (L1)', () => {
  it('reads docs, ./docs, DOCS/ and docs// as one tree', () => {
    const spellings = ['docs', './docs', 'DOCS/', 'docs//', '.\\Docs\\.', ' docs/./ '];
    for (const a of spellings) for (const b of spellings) expect(prefixesCollide(normalizePath(a), normalizePath(b))).toBe(true);
    expect(normalizePath('./docs')).toBe('docs');
    expect(normalizePath('DOCS/')).toBe('docs/');
    expect(normalizePath('docs//')).toBe('docs/');
    expect(normalizePath('a//b\\\\c')).toBe('a/b/c');
  });

  it('folds case fully: Straße and STRASSE collide, as do the other full folds', () => {
    expect(normalizePath('Straße')).toBe(normalizePath('STRASSE'));
    expect(normalizePath('ẞ')).toBe('ss');
    expect(normalizePath('ﬁle')).toBe('file');
    expect(normalizePath('ΟΔΟΣ')).toBe(normalizePath('οδος'));
    expect(normalizePath('οδοσ')).toBe(normalizePath('οδος'));
    expect(normalizePath('İ')).toBe(normalizePath('i'));
    expect(normalizePath('e\u0301')).toBe(normalizePath('é'));
    expect(normalizePath('ＤＯＣＳ')).toBe('docs');
  });

  it('refuses absolute paths and paths climbing out of the root with the typed error', () => {
    for (const path of ['../x', 'a/../../x', '/etc', 'C:\\x', 'c:/x', '\\\\server\\share', '..', './..']) {
      expect(pathRefusal(path)).toBeDefined();
      expect(() => checkTree(['src', path])).toThrow(LanePathRefusedError);
      try {
        checkTree([path]);
      } catch (error) {
        expect(error).toMatchObject({ code: 'lane_path_refused', path });
        expect((error as Error).message).toContain(JSON.stringify(path));
      }
    }
  });

  it('resolves a .. that stays inside the tree', () => {
    expect(normalizePath('a/b/../c')).toBe('a/c');
    expect(normalizePath('a/b/..')).toBe('a/');
    expect(normalizePath('a/..')).toBe('');
    expect(checkTree(['a/b/../c'])).toEqual(['a/c']);
  });

  it('still cuts at the first glob character', () => {
    expect(normalizePath('docs/*.md')).toBe('docs/');
    expect(normalizePath('src/a?c')).toBe('src/a');
    expect(normalizePath('src/[ab]')).toBe('src/');
    expect(normalizePath('**/x')).toBe('');
    expect(normalizePath('./Src/./API*')).toBe('src/api');
  });

  it('normalisation is idempotent', () => {
    const piece = fc.constantFrom('a', 'B', 'ß', 'Σ', 'ς', 'İ', 'ﬁ', 'e\u0301', '.', '..', '/', '\\', '//', ' ', '*', '?', '[', 'c:');
    const path = fc.oneof(
      fc.string({ maxLength: 12, unit: 'binary' }),
      fc.array(piece, { maxLength: 8 }).map((p) => p.join('')),
    );
    fc.assert(
      fc.property(path, (p) => {
        expect(normalizePath(normalizePath(p))).toBe(normalizePath(p));
        expect(pathRefusal(normalizePath(p))).toBeUndefined();
        expect(normalizeTree(normalizeTree([p, 'x']))).toEqual(normalizeTree([p, 'x']));
      }),
      { numRuns: 5_000, seed: 7 },
    );
  });

  it('folds every character as its full case fold does, so prefixes that fold alike stay alike', () => {
    const differing: string[] = [];
    for (let code = 0; code <= 0x10ffff; code += 1) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const ch = String.fromCodePoint(code);
      if (foldPathText(ch) !== foldPathText(referenceCaseFold(ch))) differing.push(code.toString(16));
    }
    expect(differing).toEqual([]);
  });

  it('compares journaled trees in their old forms as today, without refusing them', () => {
    const request = { lane: 'new', tree: normalizeTree(['STRASSE']), mode: 'exclusive' as const };
    expect(arbitrate(request, [lease(['straße'])])).toMatchObject({ outcome: 'refuse', reason: 'tree_overlap' });
    expect(arbitrate({ ...request, tree: ['docs'] }, [lease(['./docs'])])).toMatchObject({ outcome: 'refuse' });
    expect(arbitrate({ ...request, tree: ['src'] }, [lease(['/etc'])])).toMatchObject({ outcome: 'refuse' });
    expect(firstOverlap(['src/api'], ['../x'])).toEqual(['src/api', '']);
  });
});

/** Spellings that a full case fold (or composition) equates, grouped: one group is one name. */
const NAME_SPELLINGS: readonly (readonly string[])[] = [
  ['straße', 'STRASSE', 'Strasse', 'STRAẞE', 'strasse'],
  ['ss', 'ß', 'SS', 'ẞ', 'ſs'],
  ['σ', 'Σ', 'ς'],
  ['οδος', 'ΟΔΟΣ', 'οδοσ'],
  ['i', 'I', 'İ', 'ı', 'i\u0307'],
  ['fi', 'ﬁ', 'FI', 'Fi'],
  ['é', 'e\u0301', 'É', 'E\u0301', 'e'],
  ['docs', 'Docs', 'DOCS'],
  ['src', 'SRC'],
  ['a', 'A'],
  ['api', 'API'],
  ['.', '...', '.x'],
  [' ', 'x y'],
];
const GLOBS = ['*', '**', '?', '[ab]', '*.md'];
const SEPARATORS = ['/', '\\', '//', '\\\\', '/./', '\\.\\', '/\\'];

const spelling = (group: number) => fc.constantFrom(...(NAME_SPELLINGS[group] as string[]));
const separator = fc.constantFrom(...SEPARATORS);
const segments = fc.array(fc.nat({ max: NAME_SPELLINGS.length - 1 }), { minLength: 0, maxLength: 4 });

/** A random path over the given name groups, with random spellings, separators, globs and `./`. */
function pathOver(groups: readonly number[]): fc.Arbitrary<string> {
  return fc
    .record({
      names: fc.tuple(...groups.map(spelling)),
      seps: fc.array(separator, { minLength: groups.length, maxLength: groups.length }),
      dotSlash: fc.boolean(),
      glob: fc.option(fc.constantFrom(...GLOBS), { nil: undefined }),
      trailing: fc.boolean(),
      blank: fc.constantFrom('', ' '),
    })
    .map(({ names, seps, dotSlash, glob, trailing, blank }) => {
      let path = dotSlash ? './' : '';
      names.forEach((name, i) => {
        path += (i > 0 ? seps[i - 1] : '') + name;
      });
      if (trailing) path += seps[seps.length - 1] ?? '/';
      if (glob !== undefined) path += glob;
      return blank + path + blank;
    });
}

/** Two paths, the second often extending the first's names, so that many pairs overlap. */
const pathPair = fc
  .tuple(segments, segments, fc.boolean())
  .chain(([shared, rest, extend]) => fc.tuple(pathOver(shared), pathOver(extend ? [...shared, ...rest] : rest)));

describe('differential against the reference rules (L1)', () => {
  it('never keeps apart two paths the reference calls overlapping (20,000 seeded pairs)', () => {
    let overlapping = 0;
    fc.assert(
      fc.property(pathPair, ([a, b]) => {
        if (!referenceCollide(a, b)) return;
        overlapping += 1;
        expect(holdfastAdmitsBoth(a, b), `${JSON.stringify(a)} / ${JSON.stringify(b)}`).toBe(false);
      }),
      { numRuns: 20_000, seed: 20_260_501 },
    );
    expect(overlapping).toBeGreaterThan(2_000);
  });

  it('never keeps apart random Unicode strings the reference calls overlapping', () => {
    const text = fc.string({ maxLength: 8, unit: 'binary' });
    const pair = fc.oneof(
      fc.tuple(text, text),
      fc.tuple(text, text).map(([a, b]): [string, string] => [a, a + b]),
    );
    fc.assert(
      fc.property(pair, ([a, b]) => {
        if (referenceCollide(a, b)) expect(holdfastAdmitsBoth(a, b), `${JSON.stringify(a)} / ${JSON.stringify(b)}`).toBe(false);
      }),
      { numRuns: 20_000, seed: 20_260_502 },
    );
  });

  it('differs from the reference where a .. is resolved: a/../b no longer overlaps a/', () => {
    expect(referenceCollide('a/../b', 'a/')).toBe(true);
    expect(holdfastAdmitsBoth('a/../b', 'a/')).toBe(true);
  });
});
