import { createDatabase, type Database } from "db0";
import postgresql from "db0/connectors/postgresql";
import { afterAll, beforeAll } from "vitest";
import { createSqlLedger } from "../../src/stores/ledger/sql";
import { startPostgres, type PostgresServer } from "../_postgres";
import { describeLedgerStore } from "./_ledger-suite";
import { describeSqlLedgerCases } from "./_ledger-sql-cases";

// One real PostgreSQL server for this file; each test gets its own table prefix on its database.
let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.stop());
let prefixes = 0;
const connect = () => createDatabase(postgresql({ url: server.url }));

describeLedgerStore(
  "PostgreSQL",
  async () => {
    const prefix = `suite${++prefixes}_`;
    let db: Database = connect();
    return {
      ledger: createSqlLedger({ db, prefix }),
      // A new connection, as a restarted process would open.
      reopen: async () => {
        await db.dispose();
        db = connect();
        return createSqlLedger({ db, prefix });
      },
      cleanup: () => db.dispose(),
    };
  },
  { persistent: true },
);

describeSqlLedgerCases("PostgreSQL", { connector: "postgresql", url: () => server.url, connect });
