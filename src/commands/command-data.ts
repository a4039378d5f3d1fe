// The shape of one command as `COMMAND INFO` describes it; the generated table
// (command-table.generated.ts) is a list of these.

/** Where the search for keys begins (Redis key spec `begin_search`). */
export type BeginSearch = readonly ['index', number] | readonly ['keyword', string, number] | readonly ['unknown'];

/** How keys are found from the beginning (Redis key spec `find_keys`). */
export type FindKeys =
  readonly ['range', number, number, number] | readonly ['keynum', number, number, number] | readonly ['unknown'];

export interface KeySpecData {
  readonly flags: readonly string[];
  readonly begin: BeginSearch;
  readonly find: FindKeys;
}

export interface CommandData {
  readonly name: string;
  readonly arity: number;
  readonly flags: readonly string[];
  readonly categories: readonly string[];
  readonly keySpecs: readonly KeySpecData[];
  readonly subcommands: readonly CommandData[];
}
