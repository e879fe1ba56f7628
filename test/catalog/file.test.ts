// The catalog file's checks (src/catalog/file.ts): syntax, schema and references, each problem with its
// object's path and, for text, its line and column. No database.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CatalogError, type CatalogProblem, parseCatalog, parseCatalogText } from "../../src/catalog/file";
import { ROOT } from "../helpers/cli";

function problemsOf(text: string): CatalogProblem[] {
  try {
    parseCatalogText(text);
  } catch (error) {
    if (error instanceof CatalogError) {
      expect(error.code).toBe("CATALOG_INVALID");
      return error.problems;
    }
    throw error;
  }
  throw new Error("expected CATALOG_INVALID");
}

describe("the catalog file", () => {
  it("fills in the defaults of what it leaves out", () => {
    expect(
      parseCatalogText(`{
        // comments and trailing commas are JSON5
        actions: { quiz: {}, },
        achievements: { quizzer: { name: 'Quizzer', criteria: [{ kind: 'streak', threshold: 2 }] } },
        tiers: { Start: { minPoints: 0 } },
        levels: { newbie: { requirements: { quiz: {} } }, empty: {} },
      }`),
    ).toEqual({
      actions: { quiz: { description: "", clientReportable: false, maxAmount: 100, ranked: false } },
      achievements: {
        quizzer: {
          name: "Quizzer",
          description: "",
          points: 0,
          icon: null,
          kind: "milestone",
          hidden: false,
          availableFrom: null,
          availableUntil: null,
          position: 0,
          criteria: [{ kind: "streak", action: null, threshold: 2, hourFrom: null, hourUntil: null }],
        },
      },
      tiers: { Start: { minPoints: 0, badge: "" } },
      levels: { newbie: { requirements: { quiz: { requiredCount: 1, priority: 100 } } }, empty: { requirements: {} } },
    });
  });

  it("gives a syntax error's line and column", () => {
    expect(problemsOf(`{\n  actions: {\n    quiz: { maxAmount: 3 }}\n  }, oops\n}`)).toEqual([{ path: "", line: 4, column: 4, message: "invalid character ','" }]);
  });

  it("names a duplicate id with both places (JSON5 alone would keep the last silently)", () => {
    expect(problemsOf(`{\n  actions: {\n    quiz: {},\n    "quiz": { maxAmount: 3 },\n  },\n}`)).toEqual([
      { path: "actions.quiz", line: 4, column: 5, message: "duplicate id (first at line 3, column 5): JSON5 would keep only the last" },
    ]);
  });

  it("reports every value the schema refuses, by path, line and column", () => {
    const text = [
      "{",
      "  actions: { Quiz: {}, quiz: { maxAmount: 0, colour: 'red' } },",
      "  achievements: {",
      "    a: { name: 'A', kind: 'epic', criteria: [{ kind: 'count', action: 'quiz', threshold: 1, hourFrom: 2 }], availableFrom: '2026-12-01' },",
      "  },",
      "  tiers: { T: { minPoints: -1 } },",
      "  levels: { ' pro': {} },",
      "}",
    ].join("\n");
    expect(problemsOf(text)).toEqual(
      expect.arrayContaining([
        { path: "actions.Quiz", line: 2, column: 14, message: 'the id "Quiz" must be lower case letters, digits and _, starting with a letter (at most 100)' },
        { path: "actions.quiz.maxAmount", line: 2, column: 43, message: "must be >= 1" },
        { path: "actions.quiz.colour", line: 2, column: 46, message: 'unknown field "colour"' },
        { path: "achievements.a.kind", line: 4, column: 27, message: 'must be one of "milestone", "streak", "challenge", "hidden", "time_limited"' },
        { path: "achievements.a.criteria[0].hourFrom", line: 4, column: 93, message: 'unknown field "hourFrom"' },
        { path: "tiers.T.minPoints", line: 6, column: 28, message: "must be >= 0" },
        { path: "achievements.a.availableFrom", line: 4, column: 124, message: "must be an ISO 8601 time with its offset, for example 2026-12-01T00:00:00Z" },
        { path: 'levels[" pro"]', line: 7, column: 13, message: 'the id " pro" must not start or end with a space' },
      ]),
    );
  });

  it("names the achievement of an unknown action, a duplicate criterion, a shared minPoints and a window that ends first", () => {
    const text = `{
  actions: { quiz: {} },
  achievements: {
    a: { name: 'A', criteria: [{ kind: 'count', action: 'quizz', threshold: 1 }] },
    b: { name: 'B', availableFrom: '2026-02-01T00:00:00Z', availableUntil: '2026-01-01T00:00:00+01:00',
         criteria: [{ kind: 'count', action: 'quiz', threshold: 1 }, { kind: 'count', action: 'quiz', threshold: 2 }] },
  },
  tiers: { One: { minPoints: 10 }, Two: { minPoints: 10 } },
}`;
    expect(problemsOf(text)).toEqual([
      { path: "achievements.a.criteria[0].action", line: 4, column: 57, message: 'achievement a: unknown action "quizz" (declare it under actions)' },
      { path: "achievements.b.availableUntil", line: 5, column: 76, message: "achievement b: availableUntil must be after availableFrom" },
      { path: "achievements.b.criteria[1]", line: 6, column: 70, message: "achievement b: duplicate criterion count quiz (also criteria[0]): one per kind and action" },
      { path: "tiers.Two.minPoints", line: 8, column: 54, message: "tier Two: tier One starts at 10 too (minPoints is unique)" },
    ]);
  });

  it("checks a parsed value (GraphQL's JSON argument) by path, and a string as the file's text", () => {
    expect(() => parseCatalog({ achievements: { a: { criteria: [] } } })).toThrow(CatalogError);
    try {
      parseCatalog({ achievements: { a: { criteria: [] } } });
    } catch (error) {
      expect((error as CatalogError).problems).toEqual([{ path: "achievements.a", message: "must have required property 'name'" }]);
    }
    expect(parseCatalog("{ tiers: { T: { minPoints: 5 } } }").tiers).toEqual({ T: { minPoints: 5, badge: "" } });
  });

  it("accepts the README's example, which names the committed schema", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const example = /<!-- catalog example -->\n```json5\n([\s\S]*?)```/.exec(readme);
    expect(example).not.toBeNull();
    expect(Object.keys(parseCatalogText(example![1]).achievements)).toEqual(["streak_7"]);
    expect(example![1]).toContain('$schema: "./node_modules/pg-achievements/catalog.schema.json"');
  });
});
