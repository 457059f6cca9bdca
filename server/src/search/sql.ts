/** A compiled SQL statement and a builder that binds every value as a parameter. */
export interface CompiledSql {
  text: string;
  values: unknown[];
}

export class SqlBuilder {
  readonly values: unknown[] = [];

  /** Binds a value and returns its placeholder ($n). */
  bind(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** The index rows (an sp_* table aliased `alias`) of search parameter `code` of the resource `type`/`idExpr` (SQL). */
export function indexRowsOf(alias: string, type: string, idExpr: string, code: string): string {
  return `${alias}.resource_type = '${type}' AND ${alias}.id = ${idExpr} AND ${alias}.code = '${code}'`;
}
