import { describe, expect, it } from 'vitest';
import { createKernel, defineFlow, memoryStore } from 'holdfast';
import { formatTraceParent, normalTraceParent, parseTraceParent } from '../../../src/core/trace-parent.js';
import { traceContextOf } from '../../../src/daemon/trace-header.js';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('W3C traceparent', () => {
  it('parses a valid value, in either case and with surrounding whitespace, and formats it back', () => {
    expect(parseTraceParent(VALID)).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: 1 });
    expect(normalTraceParent(`  ${VALID.toUpperCase()} `)).toBe(VALID);
    expect(formatTraceParent({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), flags: 0 })).toBe(
      `00-${'a'.repeat(32)}-${'b'.repeat(16)}-00`,
    );
    // A later version may append fields; its first four keep their meaning.
    expect(normalTraceParent(`01-${'a'.repeat(32)}-${'b'.repeat(16)}-01-extra`)).toBe(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`);
  });

  it.each([
    ['not a string', 42],
    ['empty', ''],
    ['version ff', `ff-${'a'.repeat(32)}-${'b'.repeat(16)}-01`],
    ['version 00 with more fields', `${VALID}-extra`],
    ['a zero trace id', `00-${'0'.repeat(32)}-${'b'.repeat(16)}-01`],
    ['a zero span id', `00-${'a'.repeat(32)}-${'0'.repeat(16)}-01`],
    ['a short trace id', `00-${'a'.repeat(31)}-${'b'.repeat(16)}-01`],
    ['not hex', `00-${'g'.repeat(32)}-${'b'.repeat(16)}-01`],
    ['too long', `01-${'a'.repeat(32)}-${'b'.repeat(16)}-01-${'x'.repeat(300)}`],
  ])('refuses %s', (_, value) => {
    expect(parseTraceParent(value)).toBeUndefined();
  });

  it('an incoming header becomes a submit field only when valid', () => {
    expect(traceContextOf(new Headers({ traceparent: VALID }))).toEqual({ traceparent: VALID });
    expect(traceContextOf(new Headers({ traceparent: 'garbage' }))).toEqual({});
    expect(traceContextOf(new Headers())).toEqual({});
  });

  it('kernel.submit stores a given traceparent normalised, refuses a malformed one, and stores none without an SDK', async () => {
    const store = memoryStore();
    const kernel = createKernel({ store, flows: [defineFlow('f', async () => null)] });
    const traced = await kernel.submit({ key: 'k', flow: 'f', traceparent: VALID.toUpperCase() });
    expect((await kernel.getRun(traced.id))?.traceparent).toBe(VALID);
    await expect(kernel.submit({ key: 'k', flow: 'f', traceparent: 'nope' })).rejects.toMatchObject({ code: 'invalid_traceparent' });
    const plain = await kernel.submit({ key: 'k', flow: 'f' });
    expect((await kernel.getRun(plain.id))?.traceparent).toBeNull();
    await kernel.stop();
  });
});
