// Read replicas: queries whose answers may lag a little (the catalog, rarity, the top of the leaderboards)
// read from streaming replicas of the primary, spread round robin; every other query, every mutation and
// every subscription stays on the primary, so that a user's own progress never goes backwards after a write.
//
// `withReadReplicas(makePgService(...), { connectionStrings })` gives a pgService its replicas; the preset's
// ReadReplicasPlugin (plugins/read-replicas.ts) hands an operation the replicas' withPgClient when
// `readsMayLag()` says every field it selects may lag. A replica that cannot be reached (or loses its
// connection) is skipped for `retryAfterMs`, its reads going to the primary, with one log line per outage.
import {
  BREAK,
  type DocumentNode,
  type FieldNode,
  getNamedType,
  getOperationAST,
  type GraphQLSchema,
  isCompositeType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
} from "postgraphile/graphql";
import pg from "pg";
import type { WithPgClient } from "postgraphile/@dataplan/pg";
import { makePgAdaptorWithPgClient } from "postgraphile/adaptors/pg";
import { isDatabaseUnavailable } from "./errors";
import { serializeError } from "./logger";

declare global {
  namespace GraphileConfig {
    interface PgServiceConfiguration {
      /** Where this service's lag-tolerant queries read (src/read-replicas.ts `withReadReplicas`). */
      readReplicas?: ReadReplicas;
    }
  }
}

/**
 * The Query fields whose answers do not depend on the asker's own progress: the catalog (achievements with
 * their rarity, criteria, rule versions, actions, levels and requirements, tiers, points multipliers) and
 * the top of the leaderboards, by points and by an action's tally (other users' public scores).
 * `leaderboardAroundMe`, `actionLeaderboardAroundMe`, `myRank`, `myActionRank`, every `my*`
 * field and anything with a user's id stays on the primary.
 */
export const LAG_TOLERANT_QUERY_FIELDS: ReadonlySet<string> = new Set([
  "query",
  "allAchievements",
  "achievementById",
  "allAchievementCriteria",
  "achievementCriterionById",
  "allAchievementRuleVersions",
  "achievementRuleVersionByAchievementIdAndVersion",
  "allActions",
  "actionByName",
  "allLevels",
  "levelByName",
  "allLevelRequirements",
  "levelRequirementById",
  "levelRequirementByNameAndLevel",
  "allTiers",
  "tierByName",
  "tierByMinPoints",
  "allPointsMultipliers",
  "pointsMultiplierById",
  "activePointsMultiplier",
  "leaderboard",
  "actionLeaderboard",
]);

/** The catalog's types, and the leaderboard's entries: fields under them may reach only these (or scalars). */
const LAG_TOLERANT_NODE_TYPES = ["Achievement", "AchievementCriterion", "AchievementRuleVersion", "Action", "Level", "LevelRequirement", "Tier", "PointsMultiplier"];

/** Those types with their connections and edges (Amber's names), the page info and the leaderboard's entries. */
export const LAG_TOLERANT_TYPES: ReadonlySet<string> = new Set([
  ...LAG_TOLERANT_NODE_TYPES.flatMap((type) => [type, `${type}Connection`, `${type}Edge`]),
  "PageInfo",
  "LeaderboardEntry",
  "ActionLeaderboardEntry",
]);

// The decision per parsed document and operation name (grafserv reuses a parsed document for the same text).
const decisions = new WeakMap<DocumentNode, Map<string, boolean>>();

/**
 * True when the operation is a query and every field it selects (in its fragments too) is lag-tolerant:
 * a root field of LAG_TOLERANT_QUERY_FIELDS, and below it only LAG_TOLERANT_TYPES. One field that is not
 * (`myDashboard` beside `leaderboard`, an achievement's `achievementUnlocksByAchievementId`) keeps the
 * whole operation on the primary, so that it reads one consistent database.
 */
export function readsMayLag(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): boolean {
  let byName = decisions.get(document);
  if (!byName) decisions.set(document, (byName = new Map()));
  const key = operationName ?? "";
  let decision = byName.get(key);
  if (decision === undefined) byName.set(key, (decision = decide(schema, document, operationName)));
  return decision;
}

function decide(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): boolean {
  const operation = getOperationAST(document, operationName);
  const queryType = schema.getQueryType();
  if (!operation || operation.operation !== "query" || !queryType) return false;
  let mayLag = true;
  // The operation and every fragment (an unused fragment is invalid GraphQL, so these are the ones it spreads).
  const parts = [operation, ...document.definitions.filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION)];
  for (const part of parts) {
    const typeInfo = new TypeInfo(schema);
    visit(
      part,
      visitWithTypeInfo(typeInfo, {
        Field(node: FieldNode) {
          const name = node.name.value;
          if (name.startsWith("__")) return false; // introspection: answered by the server, no database
          const field = typeInfo.getFieldDef();
          const returned = field && getNamedType(field.type);
          const allowed =
            returned !== undefined &&
            (typeInfo.getParentType() !== queryType || LAG_TOLERANT_QUERY_FIELDS.has(name)) &&
            (!isCompositeType(returned) || returned === queryType || LAG_TOLERANT_TYPES.has(returned.name));
          if (!allowed) {
            mayLag = false;
            return BREAK;
          }
          return undefined;
        },
      }),
    );
    if (!mayLag) break;
  }
  return mayLag;
}

export interface ReadReplicasOptions {
  /** The replicas, as the same role as the primary's connection (the authenticator): `postgres://...`. */
  connectionStrings: readonly string[];
  /** Where outages go: one warning when a replica stops answering, one line when it answers again. */
  log: { warn(fields: object, message: string): void; info(fields: object, message: string): void };
  /** After a replica failed, how long its reads go to the primary before it is tried again (default 5,000 ms). */
  retryAfterMs?: number;
  /** How long a new connection to a replica may take before the read goes to the primary (default 2,000 ms). */
  connectTimeoutMs?: number;
  /** Connections per replica (default 10, as the primary's pool). */
  poolSize?: number;
}

interface Replica {
  /** host:port/database, for the logs (no password). */
  name: string;
  pool: pg.Pool;
  withPgClient: WithPgClient;
  down: boolean;
  /** While down: when it may be tried again (Date.now() milliseconds). */
  retryAt: number;
}

/** A connection string's server and database, without its credentials. */
function describeServer(connectionString: string): string {
  const url = new URL(connectionString);
  return `${url.host}${url.pathname}`;
}

/**
 * What the replica failed at, as opposed to what the query did: what makes a request DATABASE_UNAVAILABLE
 * (src/errors.ts: SQLSTATE class 08, a shutdown 57P01-57P03, a lost connection), any other socket error, and
 * the pool's connect timeout.
 */
function isConnectionProblem(error: unknown): boolean {
  if (isDatabaseUnavailable(error)) return true;
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return true; // EHOSTUNREACH, ENOTFOUND...
  return typeof message === "string" && /timeout expired/i.test(message);
}

/** A query cancelled because the replica replayed a change that conflicted with it: the primary answers it. */
const isRecoveryConflict = (error: unknown): boolean => /conflict with recovery/.test(String((error as { message?: unknown } | null)?.message));

export class ReadReplicas {
  private readonly replicas: Replica[];
  private readonly log: ReadReplicasOptions["log"];
  private readonly retryAfterMs: number;
  private next = 0;

  constructor(options: ReadReplicasOptions) {
    if (options.connectionStrings.length === 0) throw new Error("ReadReplicas: give at least one connection string");
    this.log = options.log;
    this.retryAfterMs = options.retryAfterMs ?? 5_000;
    this.replicas = options.connectionStrings.map((connectionString) => {
      const pool = new pg.Pool({ connectionString, max: options.poolSize ?? 10, connectionTimeoutMillis: options.connectTimeoutMs ?? 2_000 });
      const replica: Replica = { name: describeServer(connectionString), pool, withPgClient: makePgAdaptorWithPgClient(pool), down: false, retryAt: 0 };
      // An idle connection that dies (the replica restarting) must not crash the process: it is an outage.
      pool.on("error", (error) => this.markDown(replica, error));
      return replica;
    });
  }

  /** The replicas' names (host:port/database), in order. */
  get names(): string[] {
    return this.replicas.map((replica) => replica.name);
  }

  /**
   * A withPgClient that runs the callback on the next replica that answers (round robin), else on `primary`.
   * For reads only: a read that lost its replica's connection midway is run again on the primary.
   */
  withPgClient(primary: WithPgClient): WithPgClient {
    return async (pgSettings, callback) => {
      for (const replica of this.candidates()) {
        let reached = false;
        try {
          const result = await replica.withPgClient(pgSettings, (client) => {
            reached = true;
            return callback(client);
          });
          this.markUp(replica);
          return result;
        } catch (error) {
          if (!reached || isConnectionProblem(error)) this.markDown(replica, error);
          else if (!isRecoveryConflict(error)) throw error; // the query's own error: the same on the primary
        }
      }
      return primary(pgSettings, callback);
    };
  }

  /** The replicas to try, starting with the next in turn, without those skipped after an outage. */
  private candidates(): Replica[] {
    const start = this.next;
    this.next = (this.next + 1) % this.replicas.length;
    const now = Date.now();
    const inTurn = [...this.replicas.slice(start), ...this.replicas.slice(0, start)];
    return inTurn.filter((replica) => !replica.down || replica.retryAt <= now);
  }

  private markDown(replica: Replica, error: unknown): void {
    replica.retryAt = Date.now() + this.retryAfterMs;
    if (replica.down) return; // the same outage: logged when it began
    replica.down = true;
    this.log.warn(
      { replica: replica.name, err: serializeError(error) },
      `read replica ${replica.name} is unreachable: its reads go to the primary (retried every ${this.retryAfterMs} ms)`,
    );
  }

  private markUp(replica: Replica): void {
    if (!replica.down) return;
    replica.down = false;
    this.log.info({ replica: replica.name }, `read replica ${replica.name} answers again: lag-tolerant reads go to it`);
  }

  /** Ends the replicas' pools. */
  async release(): Promise<void> {
    await Promise.all(this.replicas.map((replica) => replica.pool.end()));
  }
}

/**
 * A pg service (makePgService's result) whose lag-tolerant queries read from replicas:
 * `pgServices: [withReadReplicas(makePgService({ connectionString, schemas }), { connectionStrings, log })]`.
 * Needs the ReadReplicasPlugin, which the achievements preset includes. No connection strings: the service as it is.
 */
export function withReadReplicas<Service extends GraphileConfig.PgServiceConfiguration>(service: Service, options: ReadReplicasOptions): Service {
  if (options.connectionStrings.length === 0) return service;
  const readReplicas = new ReadReplicas(options);
  const releaseService = service.release?.bind(service);
  return {
    ...service,
    readReplicas,
    async release() {
      await readReplicas.release();
      await releaseService?.();
    },
  };
}
