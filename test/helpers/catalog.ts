// Snapshots of a database's catalog, to compare two databases (the installer's schema against
// graphile-migrate's) or one database before and after something (an idempotent second install, a refusal).
import type pg from "pg";
import { exportCatalog } from "../../src/catalog/export";
import { roles, type TestTransaction } from "./db";

export interface SnapshotOptions {
  /** The schemas to describe. */
  schemas: string[];
  /** Leave out these relations of these schemas ("status_private.installation"), with their columns, indexes... */
  exclude?: string[];
  /** Include each catalog row's xmin: any rewrite (even `create or replace` with the same text) then shows. */
  xmin?: boolean;
}

export type Snapshot = Record<string, string[]>;

/** Every object of `schemas` with its definition, owner, privileges and comment, one sorted line each. */
export async function catalogSnapshot(client: pg.ClientBase, { schemas, exclude = [], xmin = false }: SnapshotOptions): Promise<Snapshot> {
  const x = (alias: string) => (xmin ? `, ${alias}.xmin::text` : "");
  const rels = `(select c.oid from pg_class c join pg_namespace n on n.oid = c.relnamespace
                  where n.nspname = any($1) and not (n.nspname || '.' || c.relname = any($2))
                    and not exists (select from pg_index i where i.indexrelid = c.oid and i.indrelid::regclass::text = any($2)))`;
  const queries: Record<string, string> = {
    schemas: `select n.nspname, pg_get_userbyid(n.nspowner), n.nspacl::text, obj_description(n.oid, 'pg_namespace')${x("n")}
                from pg_namespace n where n.nspname = any($1)`,
    relations: `select c.oid::regclass::text, c.relkind, pg_get_userbyid(c.relowner), c.relacl::text, c.relrowsecurity,
                       c.relforcerowsecurity, c.reloptions::text, obj_description(c.oid, 'pg_class')${x("c")}
                  from pg_class c where c.oid in ${rels} and c.relkind <> 'i'`,
    columns: `select a.attrelid::regclass::text, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                     pg_get_expr(d.adbin, d.adrelid), a.attacl::text, a.attidentity, a.attgenerated, col_description(a.attrelid, a.attnum)${x("a")}
                from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
               where a.attrelid in ${rels} and a.attnum > 0 and not a.attisdropped`,
    constraints: `select coalesce(co.conrelid::regclass::text, co.contypid::regtype::text), co.conname, pg_get_constraintdef(co.oid),
                         obj_description(co.oid, 'pg_constraint')${x("co")}
                    from pg_constraint co
                   where co.connamespace in (select oid from pg_namespace where nspname = any($1))
                     and (co.conrelid = 0 or co.conrelid in ${rels})`,
    indexes: `select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)${x("i")} from pg_index i where i.indrelid in ${rels}`,
    functions: `select p.oid::regprocedure::text, pg_get_userbyid(p.proowner), p.proacl::text, obj_description(p.oid, 'pg_proc'),
                       case when p.prokind in ('f', 'p') then pg_get_functiondef(p.oid) else p.prokind::text end${x("p")}
                  from pg_proc p where p.pronamespace in (select oid from pg_namespace where nspname = any($1))`,
    triggers: `select t.tgrelid::regclass::text, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled${x("t")}
                 from pg_trigger t where not t.tgisinternal and t.tgrelid in ${rels}`,
    policies: `select pol.polrelid::regclass::text, pol.polname, pol.polcmd, pol.polpermissive,
                      array(select coalesce(pg_get_userbyid(r), 'public') from unnest(pol.polroles) r order by 1)::text,
                      pg_get_expr(pol.polqual, pol.polrelid), pg_get_expr(pol.polwithcheck, pol.polrelid)${x("pol")}
                 from pg_policy pol where pol.polrelid in ${rels}`,
    types: `select t.oid::regtype::text, t.typtype, pg_get_userbyid(t.typowner), t.typacl::text, obj_description(t.oid, 'pg_type'),
                   (select string_agg(e.enumlabel, ',' order by e.enumsortorder) from pg_enum e where e.enumtypid = t.oid)${x("t")}
              from pg_type t
             where t.typnamespace in (select oid from pg_namespace where nspname = any($1))
               and t.typcategory <> 'A' and (t.typrelid = 0 or t.typrelid in ${rels})`,
    defaultPrivileges: `select d.defaclnamespace::regnamespace::text, pg_get_userbyid(d.defaclrole), d.defaclobjtype, d.defaclacl::text${x("d")}
                          from pg_default_acl d where d.defaclnamespace in (select oid from pg_namespace where nspname = any($1))`,
  };
  const snapshot: Snapshot = {};
  for (const [name, sql] of Object.entries(queries)) {
    const values = sql.includes("$2") ? [schemas, exclude] : [schemas];
    const { rows } = await client.query({ text: sql, values, rowMode: "array" });
    snapshot[name] = rows.map((row: unknown[]) => JSON.stringify(row)).sort();
  }
  return snapshot;
}

/** The schemas an application's database holds (everything but PostgreSQL's own). */
export async function userSchemas(client: pg.ClientBase): Promise<string[]> {
  const { rows } = await client.query<{ nspname: string }>(
    "select nspname from pg_namespace where nspname !~ '^pg_' and nspname <> 'information_schema' order by 1",
  );
  return rows.map((row) => row.nspname);
}

/**
 * What a cluster-wide change to `roles` would show: their attributes and password (pg_authid), comments,
 * memberships among them, the database's owner, ACL and settings, and the default privileges of `roles`.
 */
export async function rolesSnapshot(client: pg.ClientBase, roles: string[], database: string): Promise<Snapshot> {
  const queries: Record<string, string> = {
    roles: `select a.rolname, a.rolsuper, a.rolinherit, a.rolcreaterole, a.rolcreatedb, a.rolcanlogin, a.rolreplication,
                   a.rolbypassrls, a.rolconnlimit, a.rolpassword, a.rolvaliduntil::text, shobj_description(a.oid, 'pg_authid'), a.xmin::text
              from pg_authid a where a.rolname = any($1)`,
    memberships: `select pg_get_userbyid(m.roleid), pg_get_userbyid(m.member), pg_get_userbyid(m.grantor), m.admin_option, m.xmin::text
                    from pg_auth_members m where pg_get_userbyid(m.roleid) = any($1) and pg_get_userbyid(m.member) = any($1)`,
    roleSettings: `select s.setdatabase::text, pg_get_userbyid(s.setrole), s.setconfig::text from pg_db_role_setting s
                    where pg_get_userbyid(s.setrole) = any($1)`,
    database: `select d.datname, pg_get_userbyid(d.datdba), d.datacl::text, d.xmin::text from pg_database d where d.datname = $2 and $1::text[] is not null`,
    defaultPrivileges: `select d.defaclnamespace::text, pg_get_userbyid(d.defaclrole), d.defaclobjtype, d.defaclacl::text, d.xmin::text
                          from pg_default_acl d where pg_get_userbyid(d.defaclrole) = any($1)`,
  };
  const snapshot: Snapshot = {};
  for (const [name, sql] of Object.entries(queries)) {
    const values = sql.includes("$2") ? [roles, database] : [roles];
    const { rows } = await client.query({ text: sql, values, rowMode: "array" });
    snapshot[name] = rows.map((row: unknown[]) => JSON.stringify(row)).sort();
  }
  return snapshot;
}

/** The live catalog as `npm run catalog -- export` writes it, read as the admin in the test's transaction. */
export async function exportedCatalog(tx: TestTransaction): Promise<string> {
  await tx.client.query("select set_config('role', $1, true)", [roles.admin]);
  try {
    return await exportCatalog({ query: async <Row>(text: string, values?: unknown[]) => (await tx.client.query(text, values)).rows as Row[] });
  } finally {
    await tx.resetActor();
  }
}
