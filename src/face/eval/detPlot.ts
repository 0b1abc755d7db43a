/**
 * DET plot (FNMR against FMR, both on log axes) as a small hand-written SVG, so the report needs
 * no plotting library. Rates of zero are drawn on the bottom/left edge of the plot.
 */

export interface DetCurve {
  label: string;
  points: Array<{ fmr: number; fnmr: number }>;
}

const W = 640;
const H = 440;
const M = { left: 64, right: 16, top: 16, bottom: 120 };
const X_DECADES = [-5, 0] as const; // FMR 1e-5 … 1
const Y_DECADES = [-3, 0] as const; // FNMR 1e-3 … 1
const COLOURS = ['#1b6ca8', '#d1495b', '#2e933c', '#edae49', '#6a4c93', '#00798c'];

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function scale(v: number, [lo, hi]: readonly [number, number], from: number, to: number): number {
  const l = Math.min(hi, Math.max(lo, Math.log10(Math.max(v, 10 ** lo))));
  return from + ((l - lo) / (hi - lo)) * (to - from);
}

export function detPlotSvg(curves: DetCurve[], title: string): string {
  const x = (fmr: number) => scale(fmr, X_DECADES, M.left, W - M.right);
  const y = (fnmr: number) => scale(fnmr, Y_DECADES, H - M.bottom, M.top);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  for (let d = X_DECADES[0]; d <= X_DECADES[1]; d++) {
    const px = x(10 ** d).toFixed(1);
    parts.push(`<line x1="${px}" y1="${M.top}" x2="${px}" y2="${H - M.bottom}" stroke="#ddd"/>`);
    parts.push(`<text x="${px}" y="${H - M.bottom + 14}" text-anchor="middle">1e${d}</text>`);
  }
  for (let d = Y_DECADES[0]; d <= Y_DECADES[1]; d++) {
    const py = y(10 ** d).toFixed(1);
    parts.push(`<line x1="${M.left}" y1="${py}" x2="${W - M.right}" y2="${py}" stroke="#ddd"/>`);
    parts.push(`<text x="${M.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">1e${d}</text>`);
  }
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - M.bottom + 30}" text-anchor="middle">FMR (false match rate, log)</text>`);
  parts.push(`<text transform="translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">FNMR (false non-match rate, log)</text>`);
  curves.forEach((c, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const pts = c.points.map((p) => `${x(p.fmr).toFixed(1)},${y(p.fnmr).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${pts}" fill="none" stroke="${colour}" stroke-width="1.5"/>`);
    const ly = H - M.bottom + 48 + i * 14;
    parts.push(`<line x1="${M.left}" y1="${ly}" x2="${M.left + 24}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`);
    parts.push(`<text x="${M.left + 30}" y="${ly}" dominant-baseline="middle">${escapeXml(c.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
