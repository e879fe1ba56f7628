// Our SQL functions' arguments without a default are required (`stepsRequired(level: String!)`), as
// `gather.pgStrictFunctions` would make them, but for status_public only: an app's own functions keep
// the app's setting.
import { ACHIEVEMENTS_SCHEMAS } from "../src/achievements-schema";

export const StrictAchievementsFunctionsPlugin: GraphileConfig.Plugin = {
  name: "StrictAchievementsFunctionsPlugin",
  version: "1.0.0",
  gather: {
    hooks: {
      pgProcedures_PgResourceOptions(_info, { pgProc, resourceOptions }) {
        if (!ACHIEVEMENTS_SCHEMAS.includes(pgProc.getNamespace()!.nspname)) return;
        for (const parameter of resourceOptions.parameters ?? []) {
          // The options are being built: marking an argument not-null here is what pgStrictFunctions does.
          if (!parameter.optional) (parameter as { notNull?: boolean }).notNull = true;
        }
      },
    },
  },
};
