/**
 * Drives the provider's HTML forms over plain HTTP, as a browser would: a cookie jar, manual
 * redirects, and form fields read from the served HTML.
 */
export type Page = { status: number; url: string; location?: string; html: string; headers: Headers };

export class FormDriver {
  readonly cookies = new Map<string, string>();
  /** Every Set-Cookie line received, attributes included. */
  readonly setCookieLines: string[] = [];
  readonly base: string;
  private readonly fetch: typeof fetch;

  /** `fetchImpl` stands for the network, e.g. a TLS-terminating proxy (see forwarding.ts). */
  constructor(base: string, fetchImpl: typeof fetch = fetch) {
    this.base = base;
    this.fetch = fetchImpl;
  }

  private absorb(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      this.setCookieLines.push(line);
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1);
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(url: string, init: RequestInit = {}): Promise<Page> {
    const absolute = new URL(url, this.base).toString();
    const res = await this.fetch(absolute, {
      ...init,
      redirect: 'manual',
      headers: { accept: 'text/html', cookie: this.cookieHeader(), ...(init.headers as Record<string, string>) },
    });
    this.absorb(res);
    const location = res.headers.get('location') ?? undefined;
    return { status: res.status, url: absolute, location: location && new URL(location, absolute).toString(), html: await res.text(), headers: res.headers };
  }

  get(url: string) {
    return this.request(url);
  }

  post(url: string, fields: Record<string, string>) {
    return this.request(url, {
      method: 'POST',
      body: new URLSearchParams(fields).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  }

  /** Follows redirects on this host until one leaves it (returned) or a page is served. */
  async follow(page: Page, max = 10): Promise<Page> {
    let current = page;
    for (let i = 0; i < max && current.location && current.location.startsWith(this.base); i++) current = await this.get(current.location);
    return current;
  }
}

/** The first form on the page whose action ends with `suffix`, with its hidden fields. */
export function formOf(html: string, suffix: string): { action: string; fields: Record<string, string> } {
  const forms = [...html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
  const form = forms.find((f) => f[1].endsWith(suffix));
  if (!form) throw new Error(`no form ending in ${suffix} in:\n${html.slice(0, 2000)}`);
  const fields: Record<string, string> = {};
  for (const input of form[2].matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) fields[input[1]] = input[2].replace(/&#34;/g, '"').replace(/&amp;/g, '&');
  return { action: form[1], fields };
}
