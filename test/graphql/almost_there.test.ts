// myAlmostThere and myDashboard { almostThere } over GraphQL (migration 000009, 6-almost-there.sql), as real
// roles in rolled-back transactions: the list, its defaults, and the coded errors. The catalog and the user's
// 8 steps come from test/helpers/almost-there.ts.
import { addAlmostThereCatalog } from "../helpers/almost-there";
import { anonymous, asUser, newUserId, withTransaction } from "../helpers/db";
import { type GraphQLRunner, makeGraphQLRunner } from "../helpers/graphql";

let graphql: GraphQLRunner;
beforeAll(async () => {
  graphql = await makeGraphQLRunner();
});
afterAll(() => graphql.release());

describe("myAlmostThere", () => {
  it("lists what the user is closest to, with what remains, and the same list on myDashboard", () =>
    withTransaction(async (tx) => {
      const me = newUserId();
      await addAlmostThereCatalog(tx, me);
      const result = await graphql.run(
        tx,
        asUser(me),
        `{
          myAlmostThere(minPercent: 80, first: 2) { achievementId name points percent current target remaining criteria { kind current target remaining percent } }
          defaults: myAlmostThere { achievementId }
          myDashboard { almostThere { achievementId } }
        }`,
      );
      expect(result.errors).toBeUndefined();
      expect(result.data?.myAlmostThere).toEqual([
        { achievementId: "almost_nine", name: "Nine", points: 10, percent: 88, current: 8, target: 9, remaining: 1, criteria: [{ kind: "count", current: 8, target: 9, remaining: 1, percent: 88 }] },
        { achievementId: "almost_ten", name: "Ten", points: 10, percent: 80, current: 8, target: 10, remaining: 2, criteria: [{ kind: "count", current: 8, target: 10, remaining: 2, percent: 80 }] },
      ]);
      // The defaults (at least 80 percent, at most 5), as the dashboard lists them.
      const atLeast80 = [{ achievementId: "almost_nine" }, { achievementId: "almost_ten" }, { achievementId: "almost_ten_again" }, { achievementId: "almost_mixed" }];
      expect(result.data?.defaults).toEqual(atLeast80);
      expect(result.data?.myDashboard.almostThere).toEqual(atLeast80);
    }));

  it("answers a visitor UNAUTHENTICATED and bad arguments BAD_USER_INPUT (the field null, with its error)", () =>
    withTransaction(async (tx) => {
      const codes = async (actor: Parameters<GraphQLRunner["run"]>[1], query: string) => {
        const result = await graphql.run(tx, actor, query);
        return { data: result.data, errors: result.errors?.map((error) => [error.extensions.code, error.message]) };
      };
      expect(await codes(anonymous, `{ myAlmostThere { achievementId } }`)).toEqual({
        data: { myAlmostThere: null },
        errors: [["UNAUTHENTICATED", "Sign in to see the achievements you are close to"]],
      });
      const user = asUser(newUserId());
      for (const [args, message] of [
        ["minPercent: -1", "minPercent must be from 0 to 100"],
        ["minPercent: 101", "minPercent must be from 0 to 100"],
        ["first: 0", "first must be from 1 to 100"],
        ["first: 101", "first must be from 1 to 100"],
      ]) {
        expect(await codes(user, `{ myAlmostThere(${args}) { achievementId } }`)).toEqual({
          data: { myAlmostThere: null },
          errors: [["BAD_USER_INPUT", message]],
        });
      }
    }));
});
