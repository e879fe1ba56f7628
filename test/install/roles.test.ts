// Role names and the user id source: .gmrc's defaults, overrides (src/roles.ts) and their environment
// variables (src/config.ts).
import { loadConfig, loadInstallConfig } from "../../src/config";
import { loadRoles, loadUserIdSource, userIdPgSettings } from "../../src/roles";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

describe("loadRoles / loadUserIdSource", () => {
  it("reads .gmrc, and takes overrides role by role", () => {
    expect(loadRoles()).toEqual({
      authenticator: "achievements_authenticator",
      anonymous: "achievements_anonymous",
      user: "achievements_user",
      service: "achievements_service",
      admin: "achievements_admin",
    });
    expect(loadRoles({ user: "authenticated", anonymous: "anon" })).toMatchObject({ user: "authenticated", anonymous: "anon", admin: "achievements_admin" });
    expect(() => loadRoles({ user: "Authenticated" })).toThrow(/the user role must be a lower-case role name/);
    expect(() => loadRoles({ user: "x; drop table y" })).toThrow(/lower-case role name/);
  });

  it("defaults to jwt.claims.user_id; a claim must be a plain JSON key and the setting a custom setting", () => {
    expect(loadUserIdSource()).toEqual({ setting: "jwt.claims.user_id", claim: undefined });
    expect(loadUserIdSource({ setting: "request.jwt.claims", claim: "sub" })).toEqual({ setting: "request.jwt.claims", claim: "sub" });
    expect(() => loadUserIdSource({ setting: "role" })).toThrow(/custom setting/);
    expect(() => loadUserIdSource({ setting: "request.jwt.claims", claim: "sub'); drop" })).toThrow(/JSON key/);
  });

  it("userIdPgSettings: what a server sets so that current_user_id() sees the user", () => {
    const id = "6f1c0a52-1f1e-4c8e-9a55-3a3b8d9a0c11";
    expect(userIdPgSettings(id)).toEqual({ "jwt.claims.user_id": id });
    expect(userIdPgSettings(null)).toEqual({ "jwt.claims.user_id": "" });
    expect(userIdPgSettings(id, { setting: "request.jwt.claims", claim: "sub" })).toEqual({ "request.jwt.claims": JSON.stringify({ sub: id }) });
    expect(userIdPgSettings(null, { setting: "request.jwt.claims", claim: "sub" })).toEqual({ "request.jwt.claims": "" });
  });
});

describe("loadConfig: role names and the user id source", () => {
  // loadConfig writes development secrets into DATA_DIR: a folder of this file's own, removed after.
  const base = { NODE_ENV: "test", DATA_DIR: "" };
  beforeAll(() => {
    base.DATA_DIR = mkdtempSync(join(tmpdir(), "achievements-roles-test-"));
  });
  afterAll(() => rmSync(base.DATA_DIR, { recursive: true, force: true }));

  it("reads ACHIEVEMENTS_*_ROLE, USER_ID_SETTING and USER_ID_CLAIM", () => {
    const config = loadConfig({ ...base, ACHIEVEMENTS_USER_ROLE: "authenticated", ACHIEVEMENTS_AUTHENTICATOR_ROLE: "authenticator", USER_ID_SETTING: "request.jwt.claims", USER_ID_CLAIM: "sub" });
    expect(config.roles).toEqual({ user: "authenticated", authenticator: "authenticator" });
    expect(config.userIdSource).toEqual({ setting: "request.jwt.claims", claim: "sub" });
    expect(loadConfig(base).roles).toEqual({});
  });

  it("names a bad value", () => {
    expect(() => loadConfig({ ...base, ACHIEVEMENTS_ADMIN_ROLE: "Admin" })).toThrow(/ACHIEVEMENTS_ADMIN_ROLE: must be a lower-case role name/);
    expect(() => loadConfig({ ...base, USER_ID_SETTING: "user_id" })).toThrow(/USER_ID_SETTING: must be a custom setting/);
    expect(() => loadConfig({ ...base, USER_ID_CLAIM: "a'b" })).toThrow(/USER_ID_CLAIM: must be a JSON key/);
  });
});

describe("loadInstallConfig: what `install` reads", () => {
  it("needs no server secrets, even with NODE_ENV=production", () => {
    expect(loadInstallConfig({ NODE_ENV: "production", DATABASE_URL: "postgres://owner@db/app", ACHIEVEMENTS_USER_ROLE: "app_visitor", USER_ID_CLAIM: "sub" })).toEqual({
      databaseUrl: "postgres://owner@db/app",
      logLevel: "info",
      roles: { user: "app_visitor" },
      userIdSource: { setting: undefined, claim: "sub" },
    });
    expect(() => loadInstallConfig({ DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL: must be a postgres:\/\/ connection string/);
  });
});
