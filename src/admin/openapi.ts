/** The admin API's OpenAPI 3.1 document, built from the route table so the two cannot drift. */
import type { AdminRoute } from './routes.ts';
import { ADMIN_SCOPE } from './adminClient.ts';

const ERROR = { type: 'object', required: ['error'], properties: { error: { type: 'string' }, error_description: { type: 'string' } } };

/** `/users/:id` → `/users/{id}`. */
export const openApiPath = (koaPath: string): string => koaPath.replace(/:([A-Za-z]+)/g, '{$1}');

export function openApiDocument(issuer: string, routes: AdminRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const params = [...r.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }));
    const query = Object.entries(r.query ?? {}).map(([name, description]) => ({ name, in: 'query', required: false, description, schema: { type: 'string' } }));
    (paths[openApiPath(r.path)] ??= {})[r.method] = {
      summary: r.summary,
      security: [{ adminToken: [ADMIN_SCOPE] }],
      parameters: [...params, ...query],
      responses: {
        200: { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } },
        400: { description: 'Malformed input', content: { 'application/json': { schema: ERROR } } },
        401: { description: 'No valid admin token of this tenant', content: { 'application/json': { schema: ERROR } } },
        403: { description: 'The token lacks the admin scope', content: { 'application/json': { schema: ERROR } } },
        404: { description: 'No such user', content: { 'application/json': { schema: ERROR } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'facegate tenant admin API', version: '1' },
    servers: [{ url: `${issuer}/admin` }],
    components: {
      securitySchemes: {
        adminToken: {
          type: 'oauth2',
          description: `JWT access token from the client credentials grant with resource=${issuer}/admin and scope=${ADMIN_SCOPE}`,
          flows: { clientCredentials: { tokenUrl: `${issuer}/token`, scopes: { [ADMIN_SCOPE]: 'administer this tenant' } } },
        },
      },
    },
    paths,
  };
}
