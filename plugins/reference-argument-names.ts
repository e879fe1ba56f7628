// steps_required and user_achieved keep the reference package's SQL parameter names (`vlevel`, `vrole_id`), so
// SQL written for @pgpm/achievements calls them unchanged, named notation included. In GraphQL their
// arguments keep the readable names `level` and `userId` (`stepsRequired(level: "newbie")`).
import { ACHIEVEMENTS_SCHEMA } from "../src/achievements-schema";

/** Per function of status_public: the reference's parameter name -> the name the GraphQL argument is made from. */
const READABLE_PARAMETER_NAMES: Record<string, Record<string, string>> = {
  steps_required: { vlevel: "level", vrole_id: "user_id" },
  user_achieved: { vlevel: "level", vrole_id: "user_id" },
};

export const ReferenceArgumentNamesPlugin: GraphileConfig.Plugin = {
  name: "ReferenceArgumentNamesPlugin",
  version: "1.0.0",
  inflection: {
    replace: {
      argument(previous, _options, details) {
        const pg = details.resource?.extensions?.pg;
        const readable = pg?.schemaName === ACHIEVEMENTS_SCHEMA && details.param.name ? READABLE_PARAMETER_NAMES[pg.name]?.[details.param.name] : undefined;
        return previous!.call(this, readable ? { ...details, param: { ...details.param, name: readable } } : details);
      },
    },
  },
};
