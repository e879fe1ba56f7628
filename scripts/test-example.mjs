// `npm run test:example`: tests examples/existing-app against the package as users get it. Packs the
// package (`npm pack`, into a temporary folder), copies the example next to the tarball, installs the
// tarball and the example's own dependencies there from the registry, and runs the example's `npm test`
// on this Node (22: npm scripts run on the project's node@22). The example's tests use TEST_DATABASE_URL
// (or DATABASE_URL) when set, else start a throwaway embedded PostgreSQL; the temporary folder is removed
// afterwards (KEEP_EXAMPLE_DIR=1 keeps it, to look around).
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, relative, resolve } from "node:path";

if (Number(process.versions.node.split(".")[0]) < 22) {
  console.error(`Node ${process.version}: PostGraphile v5 needs Node 22. Run \`npm run test:example\` (the project's node@22).`);
  process.exit(2);
}

const root = resolve(import.meta.dirname, "..");
const example = join(root, "examples", "existing-app");
// Left out of the copy that is packed: built, installed, local or not part of the package.
const NOT_COPIED = /^(dist|examples|test\/artifacts|bench\/results)$|(^|\/)(node_modules|\.data|\.git)$/;
const work = mkdtempSync(join(tmpdir(), "pg-achievements-example-"));
// Run as root, the tests' PostgreSQL runs as the `postgres` OS user, which must reach the binaries in here.
chmodSync(work, 0o755);
const app = join(work, "existing-app");
// `node` in the example's scripts is the one running this script.
const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH}` };
const databaseUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
if (databaseUrl) env.TEST_DATABASE_URL = databaseUrl;
delete env.DATABASE_URL;

const started = Date.now();
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
function step(name, run) {
  const since = Date.now();
  console.log(`\n== ${name}`);
  const result = run();
  console.log(`== ${name}: ${seconds(since)}`);
  return result;
}
const npm = (args, cwd) => execFileSync("npm", args, { cwd, env, stdio: "inherit" });

let failed = false;
try {
  const tarball = step("npm pack", () => {
    // From a copy of the working tree (its node_modules linked), so that the build (prepack) never touches
    // the tree itself: its dist/ may be in use.
    const source = join(work, "pg-achievements");
    cpSync(root, source, { recursive: true, filter: (path) => !NOT_COPIED.test(relative(root, path)) });
    symlinkSync(join(root, "node_modules"), join(source, "node_modules"));
    npm(["pack", "--pack-destination", work], source);
    return join(work, readdirSync(work).find((file) => file.endsWith(".tgz")));
  });
  step("copy the example", () =>
    cpSync(example, app, { recursive: true, filter: (source) => !/[\\/](node_modules|package-lock\.json)$/.test(source) }),
  );
  step("npm install the tarball and the example's dependencies", () =>
    npm(["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], app),
  );
  // What is installed is the tarball: a copy, not a link to this working tree.
  const installed = join(app, "node_modules", "pg-achievements");
  if (lstatSync(installed).isSymbolicLink()) throw new Error(`${installed} is a link, not the packed package`);
  console.log(`pg-achievements ${JSON.parse(readFileSync(join(installed, "package.json"), "utf8")).version} from ${tarball}`);
  step("npm test (in the example)", () => npm(["test"], app));
} catch (error) {
  failed = true;
  console.error(`\ntest:example failed: ${error.message}`);
} finally {
  if (process.env.KEEP_EXAMPLE_DIR) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
  console.log(`\ntest:example ${failed ? "FAILED" : "passed"} in ${seconds(started)}`);
}
process.exitCode = failed ? 1 : 0;
