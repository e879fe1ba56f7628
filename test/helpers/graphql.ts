// The v5 equivalent of graphile-test (which requires PostGraphile 4): the real schema, executed with
// grafast against a client that is already inside the test's rolled-back transaction, as a real role
// with real claims. Errors are masked exactly as the server masks them.
import { makeWithPgClientViaPgClientAlreadyInTransaction } from "postgraphile/adaptors/pg";
import { execute, hookArgs } from "postgraphile/grafast";
import { type ExecutionResult, type GraphQLError, type GraphQLSchema, parse, validate } from "postgraphile/graphql";
import { makeSchema } from "postgraphile";
import type { PoolClient } from "pg";
import { maskError } from "../../src/errors";
import { makePreset } from "../../src/preset";
import { type Actor, sessionOf, testDatabaseUrl, type TestTransaction } from "./db";

export interface GraphQLResult<Data = Record<string, any>> {
  data?: Data | null;
  errors?: readonly GraphQLError[];
}

export interface GraphQLRunner {
  schema: GraphQLSchema;
  run<Data = Record<string, any>>(tx: TestTransaction, actor: Actor, source: string, variables?: Record<string, unknown>): Promise<GraphQLResult<Data>>;
  /** Runs it and expects no error; returns the data. */
  data(tx: TestTransaction, actor: Actor, source: string, variables?: Record<string, unknown>): Promise<Record<string, any>>;
  /** Runs it; returns its errors' codes (undefined: none). */
  errorCodes(tx: TestTransaction, actor: Actor, source: string, variables?: Record<string, unknown>): Promise<unknown[] | undefined>;
  release(): Promise<void>;
}

/** Expects a result without errors; returns its data. */
export async function ok(result: GraphQLResult | Promise<GraphQLResult>): Promise<Record<string, any>> {
  const { data, errors } = await result;
  expect(errors).toBeUndefined();
  return data ?? {};
}

/** A result's errors as [code, message] pairs (undefined: none). */
export const errorsOf = (result: GraphQLResult) => result.errors?.map((error) => [error.extensions.code, error.message]);

export async function makeGraphQLRunner(): Promise<GraphQLRunner> {
  const preset = makePreset({
    connectionString: testDatabaseUrl("TEST_AUTH_URL"),
    graphiql: false,
    authenticate: async () => {
      throw new Error("the runner passes sessions directly");
    },
  });
  const { schema, resolvedPreset } = await makeSchema(preset);

  const runner: GraphQLRunner = {
    schema,
    data(tx, actor, source, variables) {
      return ok(runner.run(tx, actor, source, variables));
    },
    async errorCodes(tx, actor, source, variables) {
      return (await runner.run(tx, actor, source, variables)).errors?.map((error) => error.extensions.code);
    },
    async run(tx, actor, source, variables) {
      const document = parse(source);
      const validationErrors = validate(schema, document);
      if (validationErrors.length > 0) return { errors: validationErrors };
      const args = {
        schema,
        document,
        variableValues: variables,
        resolvedPreset,
        requestContext: { achievementsSession: sessionOf(actor) },
      };
      await hookArgs(args);
      (args as unknown as { contextValue: Record<string, unknown> }).contextValue.withPgClient =
        // A plain Client does all that is used here; `release` belongs to pooled clients only.
        makeWithPgClientViaPgClientAlreadyInTransaction(tx.client as PoolClient, true);
      const result = (await execute(args)) as ExecutionResult;
      await tx.resetActor();
      return { data: result.data as never, errors: result.errors?.map(maskError) };
    },
    async release() {
      await Promise.all((resolvedPreset.pgServices ?? []).map((service) => service.release?.()));
    },
  };
  return runner;
}
