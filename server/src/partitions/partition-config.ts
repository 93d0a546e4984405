/**
 * A table whose rows go to the identities whose token claim `claim` holds the row's `column`
 * value: the claim's value itself (equality), one of the claim's values when it is an array
 * (membership), or every row when the claim is `"*"` (or an array holding it).
 */
export interface ClaimFilter {
  column: string;
  claim: string;
  /** Whether an identity may move a row out of its own partition (the row then leaves it). Default false. */
  moveOut?: boolean;
}

/**
 * A table whose rows follow a parent row: column `via` holds the rowguid of a row of table
 * `parent`, and the row goes wherever that row goes — at any depth, as the parent may follow its own.
 */
export interface ParentFilter {
  parent: string;
  via: string;
  /** Whether an identity may move a row to a parent outside its own partition. Default false. */
  moveOut?: boolean;
}

export type TableFilter = ClaimFilter | ParentFilter;

/** Row filters by table name; a table left out goes to everyone. */
export type PartitionConfig = Readonly<Record<string, TableFilter>>;

/** The claim value that sees every row of a filtered table. */
export const WILDCARD = '*';
