// List items that are never null, marked non-null (`[Achievement!]!`) so that generated client types
// need no null checks on them; status_public's types only:
// - the connections and edges of our tables and composite types (`allAchievements { nodes }`,
//   `myAchievements { edges { node } }`): a table's rows are never null and none of our set-returning
//   functions returns a null row. (PostGraphile's option for this, pgForbidSetofFunctionsToReturnNull,
//   would apply to an app's own schemas too.)
// - the array attributes of our composite types tagged `@notNullItems` in migrations/: PostGraphile reads
//   `@notNull` for the array itself but has no smart tag for its items; likewise the arrays our functions
//   tagged `@notNullItems` return (`myAlmostThere`).
// - the result lists of our set-returning mutations (`recordActions { result }`).
import type { GraphQLOutputType } from "postgraphile/graphql";
import { ACHIEVEMENTS_SCHEMAS } from "../src/achievements-schema";

declare global {
  namespace GraphileBuild {
    interface PgCodecAttributeTags {
      /** The array's items are never null (plugins/non-null-lists.ts). */
      notNullItems: true;
    }
    interface PgResourceTags {
      /** The array the function returns has no null items (plugins/non-null-lists.ts). */
      notNullItems: true;
    }
  }
}

export const NonNullListsPlugin: GraphileConfig.Plugin = {
  name: "NonNullListsPlugin",
  version: "1.0.0",
  description: "Non-null items in status_public's connections and in composite array attributes tagged @notNullItems",
  schema: {
    hooks: {
      GraphQLObjectType_fields_field(field, build, context) {
        const { GraphQLList, GraphQLNonNull, getNullableType, isListType, isNonNullType } = build.graphql;
        const { scope } = context;
        const nonNull = (type: GraphQLOutputType): GraphQLOutputType => new GraphQLNonNull(getNullableType(type));
        const withNonNullItems = (type: GraphQLOutputType): GraphQLOutputType => {
          const list = getNullableType(type);
          if (!isListType(list)) return type;
          const items = new GraphQLList(nonNull(list.ofType as GraphQLOutputType));
          return isNonNullType(type) ? new GraphQLNonNull(items) : items;
        };
        const schemaName = scope.pgCodec?.extensions?.pg?.schemaName;
        const ours = schemaName !== undefined && ACHIEVEMENTS_SCHEMAS.includes(schemaName);
        if (ours && scope.isConnectionType && (scope.fieldName === "nodes" || scope.fieldName === "edges")) {
          return { ...field, type: withNonNullItems(field.type) };
        }
        if (ours && scope.isConnectionEdgeType && scope.fieldName === "node") return { ...field, type: nonNull(field.type) };
        if (scope.pgFieldAttribute?.extensions?.tags?.notNullItems) return { ...field, type: withNonNullItems(field.type) };
        const functionResource = scope.pgFieldResource;
        const functionSchema = functionResource?.extensions?.pg?.schemaName;
        if (functionResource?.isList && functionResource.extensions?.tags?.notNullItems && functionSchema && ACHIEVEMENTS_SCHEMAS.includes(functionSchema)) {
          return { ...field, type: withNonNullItems(field.type) };
        }
        // The rows of our set-returning mutations (recordActions' results): one per event, never null.
        const resource = scope.isMutationPayload ? scope.pgTypeResource : undefined;
        const resourceSchema = resource?.extensions?.pg?.schemaName;
        if (resource && !resource.isUnique && resourceSchema && ACHIEVEMENTS_SCHEMAS.includes(resourceSchema) && scope.fieldName !== "clientMutationId") {
          return { ...field, type: withNonNullItems(field.type) };
        }
        return field;
      },
    },
  },
};
