// PostGraphile prefixes the names of every schema but a pgService's first (`StatusPublicAchievement`,
// `statusPublicRecordAction`) and of every service but "main". Our schema keeps its plain names wherever
// an app lists it, so the API is the same in every server and our other plugins can name our types.
// Only names from status_public change: the app's own schemas keep PostGraphile's rule.
import { ACHIEVEMENTS_SCHEMAS } from "../src/achievements-schema";

export const AchievementsSchemaNamesPlugin: GraphileConfig.Plugin = {
  name: "AchievementsSchemaNamesPlugin",
  version: "1.0.0",
  inflection: {
    replace: {
      _schemaPrefix(previous, _options, details) {
        return ACHIEVEMENTS_SCHEMAS.includes(details.pgNamespace.nspname) ? "" : previous!.call(this, details);
      },
    },
  },
};
