import { withTransaction } from "../../helpers/db";

describe("jwt_public.current_user_id()", () => {
  const userIdWithClaim = (claim: string | null) =>
    new Promise<string | null>((resolve, reject) =>
      withTransaction(async (tx) => {
        if (claim !== null) await tx.root("select set_config('jwt.claims.user_id', $1, true)", [claim]);
        const [{ id }] = await tx.root<{ id: string | null }>("select jwt_public.current_user_id() as id");
        resolve(id);
      }).catch(reject),
    );

  it("is the claim's uuid", async () => {
    expect(await userIdWithClaim("6f1c0a52-1f1e-4c8e-9a55-3a3b8d9a0c11")).toBe("6f1c0a52-1f1e-4c8e-9a55-3a3b8d9a0c11");
  });

  it.each([
    ["missing", null],
    ["empty", ""],
    ["not a uuid", "alice"],
    ["a uuid with extra text", "6f1c0a52-1f1e-4c8e-9a55-3a3b8d9a0c11; drop table x"],
    ["a uuid in another notation", "{6f1c0a52-1f1e-4c8e-9a55-3a3b8d9a0c11}"],
  ])("is NULL, not an error, when the claim is %s", async (_, claim) => {
    expect(await userIdWithClaim(claim)).toBeNull();
  });
});
