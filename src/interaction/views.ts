/** Renders the ejs templates in `views/` (escaped by default; cached outside development). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';

export type Views = { render(name: string, data: Record<string, unknown>): Promise<string> };

export const VIEWS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'views');

export function createViews(opts: { cache: boolean; dir?: string }): Views {
  const dir = opts.dir ?? VIEWS_DIR;
  return {
    render: (name, data) => ejs.renderFile(path.join(dir, `${name}.ejs`), data, { cache: opts.cache, async: true }),
  };
}
