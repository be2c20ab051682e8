import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../support/prometheus-text.js';

/** The strict parser the metrics tests rely on refuses what a Prometheus server would, and more. */
describe('parsePrometheusText', () => {
  const histogram = [
    '# HELP h_seconds a histogram',
    '# TYPE h_seconds histogram',
    'h_seconds_bucket{le="0.1"} 1',
    'h_seconds_bucket{le="+Inf"} 2',
    'h_seconds_sum 0.7',
    'h_seconds_count 2',
  ];

  it('reads families, escaped label values and histograms', () => {
    const text = ['# HELP c_total a "counter"', '# TYPE c_total counter', 'c_total{a="q\\"\\n\\\\",b="x"} 3', '', ...histogram, ''].join(
      '\n',
    );
    const m = parsePrometheusText(text);
    expect(m.value('c_total', { b: 'x', a: 'q"\n\\' })).toBe(3);
    expect(m.families.get('h_seconds')?.samples).toHaveLength(4);
    expect(m.value('h_seconds_bucket', { le: '+Inf' })).toBe(2);
  });

  it.each([
    ['no final line feed', '# TYPE a gauge\na 1'],
    ['a bad value', '# TYPE a gauge\na one\n'],
    ['a bad escape', '# TYPE a gauge\na{l="\\t"} 1\n'],
    ['a label twice', '# TYPE a gauge\na{l="1",l="2"} 1\n'],
    ['a duplicate series', '# TYPE a gauge\na 1\na 2\n'],
    ['a negative counter', '# TYPE a_total counter\na_total -1\n'],
    ['TYPE after samples', 'a 1\n# TYPE a gauge\n'],
    ['a second HELP', '# HELP a x\n# HELP a y\na 1\n'],
    ['samples split apart', '# TYPE a gauge\n# TYPE b gauge\na{x="1"} 1\nb 1\na{x="2"} 1\n'],
    ['buckets not cumulative', [...histogram.slice(0, 3), 'h_seconds_bucket{le="0.2"} 0', ...histogram.slice(3), ''].join('\n')],
    ['+Inf not equal to _count', [...histogram.slice(0, 5), 'h_seconds_count 3', ''].join('\n')],
  ])('refuses %s', (_, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
