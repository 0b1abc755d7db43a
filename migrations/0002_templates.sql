-- Encrypted face templates and the custodian's sealed BFV secret keys.
-- face_templates holds only ciphertexts and public keys: nothing here decrypts without the
-- custodian. custodian_keys belongs to the custodian (its own role in production); a row is a
-- secret key sealed with AES-256-GCM under the KEK named by kek_id. Deleting the row is
-- crypto-shredding: every copy of the template, backups included, becomes undecryptable.

CREATE TABLE face_templates (
  tenant_id text NOT NULL,
  user_id uuid NOT NULL,
  model text NOT NULL,
  dim int NOT NULL CHECK (dim BETWEEN 1 AND 512),
  public_key bytea NOT NULL,
  ciphertext bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE
);

-- No foreign key to users: the custodian may run against its own database. Deleting a user
-- must go through the template API so the key is shredded, not orphaned.
CREATE TABLE custodian_keys (
  tenant_id text NOT NULL,
  user_id uuid NOT NULL,
  kek_id text NOT NULL,
  sealed bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  rewrapped_at timestamptz,
  PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX custodian_keys_kek ON custodian_keys (kek_id);

SELECT isolate_by_tenant('face_templates', 'custodian_keys');

GRANT SELECT, INSERT, UPDATE, DELETE ON face_templates, custodian_keys TO facegate_app;
