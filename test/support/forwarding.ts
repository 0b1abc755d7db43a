/**
 * A TLS-terminating reverse proxy, as a fetch function: requests for the public origin go to the
 * provider's plain-http port with X-Forwarded-Proto and X-Forwarded-Host, the way a load
 * balancer in front of a production deployment sends them. Other origins pass through.
 */
export function behindTlsProxy(publicUrl: string, upstream: string, extraHeaders: Record<string, string> = {}): typeof fetch {
  const publicOrigin = new URL(publicUrl);
  return ((input: string | URL, init: RequestInit = {}) => {
    const url = new URL(input.toString());
    if (url.origin !== publicOrigin.origin) return fetch(url, init);
    const target = new URL(url.pathname + url.search, upstream);
    const headers = new Headers(init.headers);
    headers.set('x-forwarded-proto', publicOrigin.protocol.slice(0, -1));
    headers.set('x-forwarded-host', publicOrigin.host);
    for (const [name, value] of Object.entries(extraHeaders)) headers.set(name, value);
    return fetch(target, { ...init, headers });
  }) as typeof fetch;
}
