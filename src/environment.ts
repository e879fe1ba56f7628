// Imported first by the command line: grafast reads GRAPHILE_ENV when it loads, so set it before.
// Development mode adds checks and readable errors; production is what NODE_ENV=production asks for.
process.env.GRAPHILE_ENV ??= process.env.NODE_ENV === "production" ? "production" : "development";

export {};
