/**
 * Reads an `application/x-www-form-urlencoded` or `application/json` body with a size limit that
 * holds before anything is parsed; any other content type is refused.
 */
import type { Context } from 'koa';
import { InputError } from '../errors.ts';

export const FORM_LIMIT_BYTES = 8 * 1024;
/** JSON steps other than the capture upload: CSRF token, a username, a WebAuthn response. */
export const JSON_LIMIT_BYTES = 96 * 1024;

async function readText(ctx: Context, type: string, limit: number): Promise<string> {
  if (!ctx.is(type)) throw new InputError('request.unsupported_media_type', `expected ${type}`, 415);
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw new InputError('request.too_large', `body over ${limit} bytes`, 413);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new InputError('request.too_large', `body over ${limit} bytes`, 413);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.includes('\uFFFD')) throw new InputError('request.malformed', 'body is not valid UTF-8');
  return text;
}

/** A JSON object body; `request.malformed` for invalid JSON or anything but an object. */
export async function readJson(ctx: Context, limit = JSON_LIMIT_BYTES): Promise<Record<string, unknown>> {
  const text = await readText(ctx, 'application/json', limit);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InputError('request.malformed', 'body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError('request.malformed', 'body must be a JSON object');
  return value as Record<string, unknown>;
}

export async function readForm(ctx: Context, limit = FORM_LIMIT_BYTES): Promise<Record<string, string>> {
  const text = await readText(ctx, 'application/x-www-form-urlencoded', limit);
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
