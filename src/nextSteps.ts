/**
 * What a new user does after the first `npm start`: a short block on the console naming the
 * issuer and the commands that register a client and a user. Shown by an embedded server
 * (no DATABASE_URL, not production) until its default tenant has a client, so it greets the
 * quick start and stays out of a deployment's logs.
 */
import type { Config } from './config.ts';
import type { Database } from './store/db.ts';

export async function nextSteps(config: Config, db: Database): Promise<string | undefined> {
  if (config.production || config.databaseUrl) return undefined;
  const tenant = config.defaultTenant;
  const { rows } = await db.withTenant(tenant, (sql) => sql.query('SELECT 1 FROM clients LIMIT 1'));
  if (rows.length > 0) return undefined;
  const cli = 'node bin/facegate.ts';
  return [
    `facegate runs on embedded defaults (data in ${config.dataDir}). Next steps, in another shell:`,
    `  ${cli} client create --tenant ${tenant} --name "My App" --redirect-uri http://localhost:8080/callback`,
    `  ${cli} user create --tenant ${tenant} --username alice`,
    `  ${cli} user set-pin --tenant ${tenant} --username alice      # reads the PIN from stdin`,
    `Then point your RP at the issuer ${config.publicUrl}/t/${tenant} with the printed client_id and secret.`,
    `(Shown until tenant "${tenant}" has a client; README.md "Register a client and sign in" has more.)`,
  ].join('\n');
}
