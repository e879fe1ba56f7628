// Every SECURITY DEFINER function of our schemas pins its search_path to `pg_catalog, public, pg_temp`
// (CONVENTIONS.md). Without pg_temp at the end, PostgreSQL searches pg_temp FIRST for tables and views, and
// any caller can create a temporary table that shadows one of ours inside a function running with the
// owner's rights. The functions are enumerated from pg_proc, so a new one cannot regress unnoticed.
import { withTransaction } from "../../helpers/db";

describe("SECURITY DEFINER functions", () => {
  it("all set search_path = pg_catalog, public, pg_temp", () =>
    withTransaction(async (tx) => {
      const functions = await tx.root<{ name: string; search_path: string | null }>(`
        select p.oid::regprocedure::text as name,
               (select substr(setting, length('search_path=') + 1) from unnest(p.proconfig) as setting where setting like 'search_path=%') as search_path
        from pg_catalog.pg_proc as p
        where p.prosecdef and p.pronamespace::regnamespace::text in ('status_public', 'status_private', 'jwt_public')
        order by 1`);
      expect(functions.length).toBeGreaterThan(20);
      expect(functions.filter((f) => f.search_path !== "pg_catalog, public, pg_temp")).toEqual([]);
    }));
});
