// Without Relay global ids (NodePlugin is disabled in src/preset.ts), nothing else is called `id`, so
// a column named `id` keeps its name instead of becoming `rowId`: `achievement.id` is "tasks_completed_10".
export const KeepIdColumnNamesPlugin: GraphileConfig.Plugin = {
  name: "KeepIdColumnNamesPlugin",
  version: "1.0.0",
  inflection: {
    replace: {
      _attributeName(previous, _options, details) {
        return previous!.call(this, { ...details, skipRowId: true });
      },
    },
  },
};
