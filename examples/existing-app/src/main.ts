// `npm run db:setup` and `npm start`. Settings come from the environment:
//   db:setup: ROOT_DATABASE_URL (a superuser, any database), DATABASE_NAME (default existing_app),
//             OWNER_PASSWORD, AUTHENTICATOR_PASSWORD
//   start:    AUTH_DATABASE_URL (the authenticator), JWT_SECRET (32+ characters), PORT (default 3000)
import { makeAppPreset } from "../graphile.config.ts";
import { appRoles } from "./roles.ts";
import { startServer } from "./server.ts";
import { createAppDatabase, setupDatabase } from "./setup-database.ts";

function env(name: string, fallback?: string): string {
  const value = process.env[name] || fallback;
  if (!value) {
    console.error(`Set ${name}`);
    process.exit(2);
  }
  return value;
}

const roles = appRoles();
const command = process.argv[2];
if (command === "setup") {
  const database = await createAppDatabase({
    superuserUrl: env("ROOT_DATABASE_URL"),
    database: env("DATABASE_NAME", "existing_app"),
    roles,
    ownerPassword: env("OWNER_PASSWORD"),
    authenticatorPassword: env("AUTHENTICATOR_PASSWORD"),
  });
  const { install, migrations } = await setupDatabase(database, roles);
  console.log(`achievements engine: ${install.upToDate ? "up to date" : `applied ${install.applied.join(", ")}`}`);
  console.log(`app migrations: ${migrations.length ? migrations.join(", ") : "up to date"}`);
} else if (command === "start") {
  const jwtSecret = env("JWT_SECRET");
  if (jwtSecret.length < 32) {
    console.error("JWT_SECRET must have at least 32 characters");
    process.exit(2);
  }
  const server = await startServer(makeAppPreset({ connectionString: env("AUTH_DATABASE_URL"), jwtSecret, roles }), Number(env("PORT", "3000")));
  console.log(`GraphQL on ${server.url}/graphql`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} else {
  console.error("usage: node src/main.ts setup|start");
  process.exit(2);
}
