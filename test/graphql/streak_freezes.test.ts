// grantStreakFreezes and myDashboard { streakFreezes } over GraphQL, as real roles in rolled-back transactions.
import { asService, asUser, newUserId, withTransaction } from "../helpers/db";
import { type GraphQLRunner, makeGraphQLRunner } from "../helpers/graphql";

let graphql: GraphQLRunner;
beforeAll(async () => {
  graphql = await makeGraphQLRunner();
});
afterAll(() => graphql.release());

const GRANT = `mutation ($userId: UUID!, $freezes: Int!) { grantStreakFreezes(input: { userId: $userId, freezes: $freezes }) { result } }`;

it("lets the service give freezes, shows them on the user's dashboard, and refuses users and bad amounts", () =>
  withTransaction(async (tx) => {
    const user = newUserId();
    expect((await graphql.run(tx, asService(), GRANT, { userId: user, freezes: 2 })).data).toEqual({ grantStreakFreezes: { result: 2 } });
    expect((await graphql.run(tx, asService(), GRANT, { userId: user, freezes: 1 })).data).toEqual({ grantStreakFreezes: { result: 3 } });
    const dashboard = await graphql.run(tx, asUser(user), "{ myDashboard { streakFreezes currentStreak } }");
    expect(dashboard.data).toEqual({ myDashboard: { streakFreezes: 3, currentStreak: 0 } });
    const self = await graphql.run(tx, asUser(user), GRANT, { userId: user, freezes: 5 });
    expect(self.errors?.map((error) => error.extensions.code)).toEqual(["FORBIDDEN"]);
    const tooMany = await graphql.run(tx, asService(), GRANT, { userId: user, freezes: 1001 });
    expect(tooMany.errors?.map((error) => [error.extensions.code, error.message])).toEqual([["BAD_USER_INPUT", "Give 1 to 1000 streak freezes at a time, not 1001"]]);
  }));
