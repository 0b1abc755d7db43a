/** Reads an `application/x-www-form-urlencoded` body with a size limit; anything else is refused. */
import type { Context } from 'koa';
import { InputError } from '../errors.ts';

export const FORM_LIMIT_BYTES = 8 * 1024;

export async function readForm(ctx: Context, limit = FORM_LIMIT_BYTES): Promise<Record<string, string>> {
  if (!ctx.is('application/x-www-form-urlencoded')) {
    throw new InputError('request.unsupported_media_type', 'expected application/x-www-form-urlencoded', 415);
  }
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw new InputError('request.too_large', `form body over ${limit} bytes`, 413);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new InputError('request.too_large', `form body over ${limit} bytes`, 413);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.includes('\uFFFD')) throw new InputError('request.malformed', 'form body is not valid UTF-8');
  const form: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    if (key in form) throw new InputError('request.malformed', `field "${key}" given twice`);
    form[key] = value;
  }
  return form;
}

/** A required string field with a maximum length. */
export function field(form: Record<string, string>, name: string, maxLength: number): string {
  const value = form[name];
  if (value === undefined || value === '') throw new InputError('request.missing_field', `missing field "${name}"`);
  if (value.length > maxLength) throw new InputError('request.field_too_long', `field "${name}" is too long`);
  return value;
}
