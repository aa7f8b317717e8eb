// The seam between the store and its two databases: the few things SqlStore asks of a SQL client
// (parameterized queries, a script of several statements, a transaction, closing), implemented
// once over PGlite (pglite.ts) and once over a `pg` Pool (postgres.ts). Both speak PostgreSQL, so
// the schema and every query above this seam are the same text for both.

/** Runs SQL: on the client itself, or inside one of its transactions. */
export interface Sql {
  /** One statement with `$1`-style parameters; resolves to its rows. */
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** Several statements separated by semicolons, without parameters (a migration). */
  exec(text: string): Promise<void>;
}

/** A connection to one database: PGlite's single in-process connection, or a pool of server connections. */
export interface SqlClient extends Sql {
  readonly kind: 'pglite' | 'postgres';
  /** The data directory, or the server URL without its password. */
  readonly location: string;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
