import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detPlotSvg } from '../../../src/face/eval/detPlot.ts';

test('one polyline and legend entry per curve, labels escaped', () => {
  const svg = detPlotSvg(
    [
      { label: 'a <b>', points: [{ fmr: 1, fnmr: 0 }, { fmr: 0.01, fnmr: 0.1 }, { fmr: 0, fnmr: 1 }] },
      { label: 'c', points: [{ fmr: 0.5, fnmr: 0.5 }] },
    ],
    'DET & co',
  );
  assert.equal(svg.match(/<polyline /g)?.length, 2);
  assert.ok(svg.includes('a &lt;b&gt;'));
  assert.ok(svg.includes('<title>DET &amp; co</title>'));
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
});

test('zero rates are clamped to the plot edges, not drawn at infinity', () => {
  const svg = detPlotSvg([{ label: 'z', points: [{ fmr: 0, fnmr: 0 }] }], 't');
  const [px, py] = /points="([\d.]+),([\d.]+)"/.exec(svg)!.slice(1).map(Number);
  assert.equal(px, 64); // left edge (FMR 1e-5)
  assert.equal(py, 440 - 120); // bottom edge (FNMR 1e-3)
});
