// The npm package: what `npm pack` puts in the tarball (compiled JavaScript, type declarations, the SQL and
// what the runtime reads, nothing else), and that its entry loads from the unpacked tarball on Node 22.
//
// Runs on a copy of the working tree (node_modules linked), so the build (prepack's `npm run build`) never
// touches the tree under test. Minutes of CPU are not needed: one tsc build, two `npm pack`s.
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "../../src/config";

const run = promisify(execFile);

/** Not copied: installed, generated or local; node_modules and .data anywhere (the examples have their own). */
const NOT_COPIED = new Set(["dist", "test/artifacts", "bench/results"]);
const NOT_COPIED_ANYWHERE = new Set(["node_modules", ".data", ".git"]);
const copied = (source: string): boolean => {
  const path = relative(PROJECT_ROOT, source);
  return !NOT_COPIED.has(path) && !path.split("/").some((segment) => NOT_COPIED_ANYWHERE.has(segment));
};

interface PackedFile {
  path: string;
  size: number;
}
interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: PackedFile[];
}

const node = join(PROJECT_ROOT, "node_modules", ".bin", "node");
let workDir: string;
let packageDir: string;

async function npm(args: string[]): Promise<string> {
  // npm scripts put node_modules/.bin first on PATH; so does this, for the prepack build's tsc and node.
  const env = { ...process.env, PATH: `${join(packageDir, "node_modules", ".bin")}:${process.env.PATH}`, NODE_OPTIONS: "" };
  try {
    const { stdout } = await run("npm", args, { cwd: packageDir, env, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm ${args.join(" ")} failed:\n${stdout ?? ""}\n${stderr ?? ""}`);
  }
}

const packJson = (stdout: string): PackResult => (JSON.parse(stdout.slice(stdout.indexOf("["))) as PackResult[])[0];

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "achievements-pack-"));
  packageDir = join(workDir, "pg-achievements");
  cpSync(PROJECT_ROOT, packageDir, { recursive: true, filter: copied });
  symlinkSync(join(PROJECT_ROOT, "node_modules"), join(packageDir, "node_modules"));
  await npm(["run", "build"]);
}, 180_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe("npm pack", () => {
  let packed: PackResult;
  let paths: string[];
  beforeAll(async () => {
    packed = packJson(await npm(["pack", "--dry-run", "--json", "--ignore-scripts"]));
    paths = packed.files.map((file) => file.path);
  });

  it("has the compiled entry, its type declarations and the CLI", () => {
    expect(paths).toEqual(expect.arrayContaining(["package.json", "README.md", "dist/src/index.js", "dist/src/index.d.ts", "dist/src/cli.js", "dist/src/preset.d.ts"]));
    // Every module comes with its declarations.
    for (const path of paths.filter((p) => p.endsWith(".js") && p.startsWith("dist/"))) {
      expect(paths).toContain(path.replace(/\.js$/, ".d.ts"));
    }
  });

  it("has the SQL and what the runtime reads: every committed migration, afterReset.sql, the seeds, .gmrc, the catalog schema, the demo page", () => {
    const committed = readdirSync(join(PROJECT_ROOT, "migrations", "committed")).map((file) => `migrations/committed/${file}`);
    expect(committed.length).toBeGreaterThan(0);
    expect(paths).toEqual(
      expect.arrayContaining([...committed, "migrations/afterReset.sql", "migrations/seeds/demo-catalog.sql", ".gmrc", "catalog.schema.json", "demo/index.html", "demo/demo.js"]),
    );
  });

  it("has nothing else: no TypeScript sources, tests, bench, examples or tooling", () => {
    const allowed = /^(package\.json|README\.md|LICENSE|\.gmrc|catalog\.schema\.json|dist\/(src|plugins)\/([\w-]+\/)?[\w.-]+\.(js|d\.ts)|migrations\/(afterReset\.sql|committed\/[\w.-]+\.sql|seeds\/[\w.-]+\.sql)|demo\/[\w.-]+)$/;
    expect(paths.filter((path) => !allowed.test(path))).toEqual([]);
    expect(paths.filter((path) => /(^|\/)(test|bench|examples)\/|\.test\.|\.ts$/.test(path) && !path.endsWith(".d.ts"))).toEqual([]);
  });
});

describe("the unpacked tarball", () => {
  let unpacked: string;
  beforeAll(async () => {
    const out = join(workDir, "out");
    mkdirSync(out);
    const { filename } = packJson(await npm(["pack", "--json", "--ignore-scripts", "--pack-destination", out]));
    // Unpacked beside the linked node_modules, so that its dependencies resolve as they would once installed.
    const into = join(packageDir, "unpacked");
    mkdirSync(into);
    await run("tar", ["-xzf", join(out, filename), "-C", into]);
    unpacked = join(into, "package");
  });

  it("loads on Node 22 and exports the preset, the schemas and the error mapping", async () => {
    const script = `
      const entry = require(${JSON.stringify(unpacked + "/")});
      const preset = entry.makeAchievementsPreset();
      console.log(JSON.stringify({
        node: process.versions.node,
        exports: Object.keys(entry).sort(),
        schemas: entry.ACHIEVEMENTS_SCHEMAS,
        plugins: preset.plugins.map((plugin) => plugin.name),
      }));`;
    const { stdout } = await run(node, ["-e", script], { cwd: workDir });
    const loaded = JSON.parse(stdout);
    expect(loaded.node).toMatch(/^22\./);
    expect(loaded.exports).toEqual(expect.arrayContaining(["makeAchievementsPreset", "ACHIEVEMENTS_SCHEMAS", "maskAchievementsError", "achievementsErrorOf", "installAchievements"]));
    expect(loaded.schemas).toEqual(["status_public"]);
    expect(loaded.plugins).toEqual(expect.arrayContaining(["LeaderboardPlugin", "AchievementSubscriptionsPlugin"]));
  });

  it("has an installer entry (`pg-achievements/install`) that does not load PostGraphile", async () => {
    const script = `
      const install = require(${JSON.stringify(join(unpacked, "dist", "src", "install.js"))});
      const loaded = Object.keys(require.cache);
      console.log(JSON.stringify({
        exports: Object.keys(install).sort(),
        postgraphile: loaded.some((file) => /[\\/](postgraphile|grafast|grafserv)[\\/]/.test(file)),
      }));`;
    const { stdout } = await run(node, ["-e", script], { cwd: workDir });
    const { exports, postgraphile } = JSON.parse(stdout);
    expect(exports).toEqual(expect.arrayContaining(["installAchievements", "InstallError", "SUPABASE_INSTALL_OPTIONS"]));
    expect(postgraphile).toBe(false);
    const manifest = JSON.parse(readFileSync(join(unpacked, "package.json"), "utf8"));
    expect(manifest.exports["./install"]).toEqual({ types: "./dist/src/install.d.ts", default: "./dist/src/install.js" });
  });

  it("finds its files from inside the package: .gmrc's roles, the migrations, the demo page, the catalog schema", async () => {
    const script = `
      const { PROJECT_ROOT } = require(${JSON.stringify(join(unpacked, "dist", "src", "config.js"))});
      const { loadRoles } = require(${JSON.stringify(join(unpacked, "dist", "src", "roles.js"))});
      const { parseCatalogText } = require(${JSON.stringify(join(unpacked, "dist", "src", "catalog", "file.js"))});
      const tiers = Object.keys(parseCatalogText("{ tiers: { Start: { minPoints: 0 } } }").tiers);
      console.log(JSON.stringify({ root: PROJECT_ROOT, roles: loadRoles(), tiers }));`;
    const { stdout } = await run(node, ["-e", script], { cwd: workDir });
    const { root, roles, tiers } = JSON.parse(stdout);
    expect(root).toBe(unpacked);
    expect(roles.user).toBe("achievements_user");
    expect(tiers).toEqual(["Start"]);
    for (const file of ["migrations/afterReset.sql", "migrations/seeds/demo-catalog.sql", "demo/index.html"]) {
      expect(existsSync(join(root, file))).toBe(true);
    }
  });

  it("has a CLI that runs with node (a shebang line)", () => {
    expect(readFileSync(join(unpacked, "dist", "src", "cli.js"), "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
    const { bin } = JSON.parse(readFileSync(join(unpacked, "package.json"), "utf8"));
    expect(bin).toEqual({ "pg-achievements": "dist/src/cli.js" });
  });
});
