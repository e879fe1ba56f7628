// Codes for the documents grafserv refuses before running anything: one that does not parse
// (GRAPHQL_PARSE_FAILED) or does not validate against the schema (GRAPHQL_VALIDATION_FAILED: an unknown
// field or mutation, a missing argument, a literal of the wrong type...). grafserv sends these errors as
// they are, without maskError over HTTP, so they are coded where grafserv gets them: the parseAndValidate
// function of its execution config, which HTTP and websockets share and whose results it caches. An error
// that has a code already (the depth and alias rules of plugins/request-limits.ts) keeps it.
import { type PromiseOrDirect, isPromiseLike } from "postgraphile/grafast";
import type { ExecutionConfig } from "postgraphile/grafserv";
import type { GraphQLError } from "postgraphile/graphql";
import { withCode } from "../src/errors";

type ParseAndValidate = ExecutionConfig["parseAndValidate"];
type ParseAndValidateResult = ReturnType<ParseAndValidate>;

const coded = (errors: readonly GraphQLError[]): GraphQLError[] =>
  errors.map((error) =>
    error.extensions?.code !== undefined ? error : withCode(error, error.message.startsWith("Syntax Error") ? "GRAPHQL_PARSE_FAILED" : "GRAPHQL_VALIDATION_FAILED"),
  );

/** parseAndValidate with coded errors; each result is coded once (grafserv caches results by query). */
function withCodedErrors(parseAndValidate: ParseAndValidate): ParseAndValidate {
  const codedResults = new WeakMap<ParseAndValidateResult, ParseAndValidateResult>();
  return (query) => {
    const result = parseAndValidate(query);
    if (result.errors === undefined) return result;
    let codedResult = codedResults.get(result);
    if (!codedResult) {
      codedResult = { errors: coded(result.errors) } as ParseAndValidateResult;
      codedResults.set(result, codedResult);
    }
    return codedResult;
  };
}

export const GraphQLErrorCodesPlugin: GraphileConfig.Plugin = {
  name: "GraphQLErrorCodesPlugin",
  version: "1.0.0",
  description: "extensions.code on parse (GRAPHQL_PARSE_FAILED) and validation (GRAPHQL_VALIDATION_FAILED) errors, over HTTP and websockets",
  grafserv: {
    middleware: {
      setPreset(next, event) {
        const getExecutionConfig = event.getExecutionConfig;
        // One wrapper per parseAndValidate (grafserv makes a new one when the schema changes, in watch mode).
        const wrapped = new WeakMap<ParseAndValidate, ParseAndValidate>();
        const withCodes = (config: ExecutionConfig): ExecutionConfig => {
          let parseAndValidate = wrapped.get(config.parseAndValidate);
          if (!parseAndValidate) {
            parseAndValidate = withCodedErrors(config.parseAndValidate);
            wrapped.set(config.parseAndValidate, parseAndValidate);
          }
          return { ...config, parseAndValidate };
        };
        event.getExecutionConfig = function (ctx): PromiseOrDirect<ExecutionConfig> {
          const config = getExecutionConfig.call(this, ctx);
          return isPromiseLike(config) ? Promise.resolve(config).then(withCodes) : withCodes(config);
        };
        return next();
      },
    },
  },
};
