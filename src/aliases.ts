/**
 * Model aliases: names a client may send in place of a catalog model, each routed to one.
 * A key is an exact name (`"fast"`) or a pattern where `*` stands for any run of characters
 * (`"claude-haiku-*"`); a value is a catalog model (`"gemini/gemini-2.5-flash"`).
 */
export type ModelAliases = Record<string, string>;

/** A compiled alias map: exact names in a Map, patterns as regexes made once. */
export interface AliasTable {
  /** The catalog model `name` routes to, or undefined when no alias matches. */
  resolve(name: string): string | undefined;
  /** The exact names (no patterns: a client cannot send one verbatim) and their models, as given. */
  names(): Array<[alias: string, model: string]>;
}

/**
 * Compiles an alias map. The most specific alias wins: an exact name before any pattern;
 * among patterns, the one with the most characters besides `*`; a tie goes to the one
 * listed first. Throws a TypeError naming every bad entry (`problems` lists them).
 */
export function compileAliases(aliases: ModelAliases | null | undefined, isModel: (name: string) => boolean): AliasTable {
  const problems = aliasProblems(aliases, isModel);
  if (problems.length) throw new TypeError(`[agentgate] bad model aliases: ${problems.join("; ")}`);
  const exact = new Map<string, string>();
  const patterns: Array<{ regex: RegExp; literal: number; model: string }> = [];
  for (const [alias, model] of Object.entries(aliases ?? {})) {
    if (!alias.includes("*")) exact.set(alias, model);
    else patterns.push({ regex: globRegex(alias), literal: alias.replaceAll("*", "").length, model });
  }
  // Stable sort: equally specific patterns keep the order they were listed in.
  patterns.sort((a, b) => b.literal - a.literal);
  return {
    resolve(name) {
      const hit = exact.get(name);
      if (hit !== undefined) return hit;
      for (const pattern of patterns) if (pattern.regex.test(name)) return pattern.model;
      return undefined;
    },
    names: () => [...exact],
  };
}

/** What is wrong with an alias map, one sentence per entry (empty when it is fine). */
export function aliasProblems(aliases: ModelAliases | null | undefined, isModel: (name: string) => boolean): string[] {
  if (aliases == null) return [];
  if (typeof aliases !== "object" || Array.isArray(aliases)) return ["the aliases must be an object of name -> model"];
  const problems: string[] = [];
  for (const [alias, model] of Object.entries(aliases)) {
    if (alias.trim() === "" || alias.length > MAX_ALIAS) problems.push(`the alias ${JSON.stringify(alias.slice(0, 40))} must be 1 to ${MAX_ALIAS} characters`);
    else if (typeof model !== "string" || !isModel(model)) problems.push(`\`${alias}\` routes to ${JSON.stringify(model)}, which is not a model in the catalog`);
  }
  return problems;
}

/**
 * The compiled table of an agent's aliases, made once per record read (records are reused
 * for a second). An alias whose model has left the catalog since it was saved is skipped.
 */
export function agentAliasTable(aliases: ModelAliases, isModel: (name: string) => boolean): AliasTable {
  let table = compiled.get(aliases);
  if (!table) {
    const valid = Object.fromEntries(Object.entries(aliases).filter(([alias, model]) => alias.trim() !== "" && typeof model === "string" && isModel(model)));
    compiled.set(aliases, (table = compileAliases(valid, isModel)));
  }
  return table;
}

// --- internal ---

const MAX_ALIAS = 200;

const compiled = new WeakMap<ModelAliases, AliasTable>();

function globRegex(pattern: string): RegExp {
  const source = pattern.split("*").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return new RegExp(`^${source}$`, "s");
}
