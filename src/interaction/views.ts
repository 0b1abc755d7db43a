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

type PageContext = { type: string; body: unknown; set(field: string, value: string): void };

/**
 * Sends a rendered page. Every page we render belongs to one sign-in, error or logout (CSRF
 * tokens, usernames, form state): no browser or proxy may keep it.
 */
export async function sendPage(ctx: PageContext, views: Views, name: string, data: Record<string, unknown>): Promise<void> {
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'html';
  ctx.body = await views.render(name, data);
}
