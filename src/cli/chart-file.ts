/**
 * Chart files (`--plot FILE.svg` or `FILE.png`): the SVG as report/chart.ts draws it, or that SVG
 * rendered to PNG by resvg at twice its size (so 1520 × 840 pixels for a 760 × 420 chart), with the
 * system's fonts (DejaVu Sans). resvg is loaded only when a PNG is asked for.
 */
import { writeFileSync } from 'node:fs';
import { InputError } from '../base/errors.js';

/** PNG pixels per SVG unit. */
export const PNG_SCALE = 2;

/** Whether `path` asks for a PNG. */
export const isPng = (path: string) => /\.png$/i.test(path);

/** `svg` rendered to PNG at {@link PNG_SCALE} times its width. */
export async function svgToPng(svg: string): Promise<Buffer> {
  const { Resvg } = await import('@resvg/resvg-js');
  const width = Number(/<svg[^>]*\swidth="([0-9.]+)"/.exec(svg)?.[1] ?? 760);
  const r = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'width', value: Math.round(width * PNG_SCALE) },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return r.render().asPng();
}

/**
 * Writes a chart to `path`: the SVG itself, or a PNG when the name ends in .png.
 * @throws InputError naming `flag` when the file cannot be written.
 */
export async function writeChartFile(flag: string, path: string, svg: string): Promise<void> {
  const data = isPng(path) ? await svgToPng(svg) : svg;
  try {
    writeFileSync(path, data);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new InputError('flag', `cannot write ${path} (${code})`, { file: flag });
  }
}
