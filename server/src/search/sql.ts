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
