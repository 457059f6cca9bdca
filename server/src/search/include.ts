/**
 * _include and _revinclude (R4 search.html "Including other resources in
 * results"): parsing of `Type:param[:targetType]` and `*`, with `:iterate`
 * (`:recurse` is its STU3 name), and the SQL of one include step over
 * sp_reference. The repository runs the steps after the page of matches.
 */
import { getSearchParameters } from '@medplum/core';
import { FhirError } from '../fhir/errors.ts';
import { allResourceTypes } from '../fhir/definitions.ts';
import { SqlBuilder, type CompiledSql } from './sql.ts';
import { accessClause, type AccessFilter } from './access.ts';

export interface IncludeDirective {
  /** The parameter as written (`_include`, `_revinclude:iterate`), for the self link. */
  name: string;
  /** Its value as written. */
  value: string;
  reverse: boolean;
  iterate: boolean;
  /** Type holding the reference (`*` only in `_include=*`). */
  sourceType: string;
  /** Reference parameter codes of sourceType followed. */
  codes: string[];
  /** Only references to this type. */
  targetType?: string;
}

/** Rounds of :iterate at most, and included resources at most per page. */
export const MAX_ITERATE_ROUNDS = 4;
export const MAX_INCLUDED = 1000;

const NAME = /^_(rev)?include(?::(iterate|recurse))?$/;

export function isIncludeParam(name: string): boolean {
  return NAME.test(name);
}

/**
 * Parses one _include/_revinclude parameter. Returns undefined for a parameter
 * that does not exist (the caller ignores it, or rejects it when strict); a
 * parameter that exists but is no reference is a 400.
 */
export function parseInclude(name: string, value: string, searchedType: string): IncludeDirective | undefined {
  const [, rev, modifier] = NAME.exec(name) ?? [];
  const reverse = rev === 'rev';
  const iterate = modifier !== undefined;
  if (value === '*') {
    if (reverse) throw new FhirError('not-supported', '_revinclude=* is not supported; name a Type:param or Type:*');
    return { name, value, reverse, iterate, sourceType: '*', codes: [] };
  }
  const [sourceType, param, targetType, extra] = value.split(':');
  if (!sourceType || !param || extra !== undefined) {
    throw new FhirError('invalid', `${name} takes Type:param or Type:param:targetType, not "${value}"`);
  }
  if (!allResourceTypes().includes(sourceType)) return undefined;
  if (targetType !== undefined && !allResourceTypes().includes(targetType)) return undefined;
  if (!reverse && !iterate && sourceType !== searchedType) {
    throw new FhirError(
      'invalid',
      `${name}=${value}: the type must be ${searchedType}, the searched type (or use :iterate)`,
    );
  }
  const references = referenceParams(sourceType);
  let codes: string[];
  if (param === '*') codes = Object.keys(references);
  else {
    const definition = getSearchParameters(sourceType)?.[param];
    if (!definition) return undefined;
    if (definition.type !== 'reference') {
      throw new FhirError('invalid', `${name}=${value}: ${param} is a ${definition.type} parameter, not a reference`);
    }
    codes = [param];
  }
  if (reverse && !iterate) {
    const target = targetType ?? searchedType;
    codes = codes.filter((code) => references[code].includes(target));
    if (!codes.length) {
      throw new FhirError('invalid', `${name}=${value}: ${sourceType}.${param} cannot refer to ${searchedType}`);
    }
  }
  return { name, value, reverse, iterate, sourceType, codes, targetType };
}

/** The reference search parameters of a type, each with its target types. */
export function referenceParams(resourceType: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [code, sp] of Object.entries(getSearchParameters(resourceType) ?? {})) {
    if (sp.type === 'reference' && sp.expression && !code.startsWith('_')) out[code] = [...(sp.target ?? [])];
  }
  return out;
}

/** CapabilityStatement searchInclude of a type: `*` and every Type:param reference parameter. */
export function searchIncludes(resourceType: string): string[] {
  return ['*', ...Object.keys(referenceParams(resourceType)).map((code) => `${resourceType}:${code}`)];
}

/** CapabilityStatement searchRevInclude of a type: every Other:param whose targets include it. */
export function searchRevIncludes(resourceType: string): string[] {
  const out: string[] = [];
  for (const source of allResourceTypes()) {
    for (const [code, targets] of Object.entries(referenceParams(source))) {
      if (targets.includes(resourceType)) out.push(`${source}:${code}`);
    }
  }
  return out.sort();
}

/**
 * One step: the current resources that `from` (resources of one type) refer to
 * through the directive (_include), or that refer to them (_revinclude).
 */
export function compileIncludeStep(
  directive: IncludeDirective,
  fromType: string,
  fromIds: string[],
  access?: AccessFilter,
): CompiledSql | undefined {
  const sql = new SqlBuilder();
  const restriction = accessClause(sql, 'r', access);
  const visible = restriction ? ` AND ${restriction}` : '';
  if (!directive.reverse) {
    const source = directive.sourceType === '*' ? fromType : directive.sourceType;
    if (source !== fromType) return undefined;
    const codes = directive.sourceType === '*' ? Object.keys(referenceParams(fromType)) : directive.codes;
    if (!codes.length) return undefined;
    const target = directive.targetType ? ` AND x.target_type = ${sql.bind(directive.targetType)}` : '';
    const text =
      'SELECT DISTINCT r.resource_type, r.id, r.content, r.patients FROM sp_reference x' +
      ' JOIN resource r ON r.resource_type = x.target_type AND r.id = x.target_id AND NOT r.deleted' +
      ` WHERE x.resource_type = ${sql.bind(fromType)} AND x.id = ANY(${sql.bind(fromIds)}::text[])` +
      ` AND x.code = ANY(${sql.bind(codes)}::text[])${target}${visible}`;
    return { text, values: sql.values };
  }
  if (directive.targetType && directive.targetType !== fromType) return undefined;
  const codes = directive.codes.filter((code) => referenceParams(directive.sourceType)[code]?.includes(fromType));
  if (!codes.length) return undefined;
  const text =
    'SELECT DISTINCT r.resource_type, r.id, r.content, r.patients FROM sp_reference x' +
    ' JOIN resource r ON r.resource_type = x.resource_type AND r.id = x.id AND NOT r.deleted' +
    ` WHERE x.resource_type = ${sql.bind(directive.sourceType)} AND x.code = ANY(${sql.bind(codes)}::text[])` +
    ` AND x.target_type = ${sql.bind(fromType)} AND x.target_id = ANY(${sql.bind(fromIds)}::text[])${visible}`;
  return { text, values: sql.values };
}
