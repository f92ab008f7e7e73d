/**
 * What the SQL ledger uses of a db0 `Database`, written out here so agentgate's public
 * types never import db0 (an optional peer an app without the SQL ledger has not
 * installed). A db0 Database is one, structurally.
 */
export type SqlPrimitive = string | number | boolean | undefined | null;

export interface SqlStatement {
  all(...params: SqlPrimitive[]): Promise<unknown[]>;
  run(...params: SqlPrimitive[]): Promise<unknown>;
  get(...params: SqlPrimitive[]): Promise<unknown>;
}

export interface SqlDatabase {
  /** db0's dialect name: the ledger runs on "sqlite" and "postgresql". */
  readonly dialect: string;
  exec(sql: string): Promise<unknown>;
  prepare(sql: string): SqlStatement;
}
