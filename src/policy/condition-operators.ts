/**
 * The IAM condition operators an IoT policy may use, as a table, and the parser of an operator
 * name with its `ForAnyValue:`/`ForAllValues:` qualifier and `IfExists` suffix.
 */

export type OperatorFamily = 'String' | 'StringIgnoreCase' | 'StringLike' | 'Numeric' | 'Date' | 'Bool' | 'Binary' | 'Ip' | 'Arn' | 'Null';
export type Comparison = 'eq' | 'lt' | 'le' | 'gt' | 'ge';

export interface OperatorInfo {
  readonly family: OperatorFamily;
  /** Negated operators (StringNotEquals, NotIpAddress, …) are true when no policy value matches. */
  readonly negated: boolean;
  readonly comparison: Comparison;
}

const op = (family: OperatorFamily, negated = false, comparison: Comparison = 'eq'): OperatorInfo => ({ family, negated, comparison });

export const CONDITION_OPERATORS = {
  StringEquals: op('String'),
  StringNotEquals: op('String', true),
  StringEqualsIgnoreCase: op('StringIgnoreCase'),
  StringNotEqualsIgnoreCase: op('StringIgnoreCase', true),
  StringLike: op('StringLike'),
  StringNotLike: op('StringLike', true),
  NumericEquals: op('Numeric'),
  NumericNotEquals: op('Numeric', true),
  NumericLessThan: op('Numeric', false, 'lt'),
  NumericLessThanEquals: op('Numeric', false, 'le'),
  NumericGreaterThan: op('Numeric', false, 'gt'),
  NumericGreaterThanEquals: op('Numeric', false, 'ge'),
  DateEquals: op('Date'),
  DateNotEquals: op('Date', true),
  DateLessThan: op('Date', false, 'lt'),
  DateLessThanEquals: op('Date', false, 'le'),
  DateGreaterThan: op('Date', false, 'gt'),
  DateGreaterThanEquals: op('Date', false, 'ge'),
  Bool: op('Bool'),
  BinaryEquals: op('Binary'),
  IpAddress: op('Ip'),
  NotIpAddress: op('Ip', true),
  ArnEquals: op('Arn'),
  ArnLike: op('Arn'),
  ArnNotEquals: op('Arn', true),
  ArnNotLike: op('Arn', true),
  Null: op('Null'),
} as const satisfies Record<string, OperatorInfo>;

export type ConditionOperatorName = keyof typeof CONDITION_OPERATORS;

export interface ConditionOperator {
  /** As written in the document, e.g. `ForAnyValue:StringLikeIfExists`. */
  readonly written: string;
  readonly name: ConditionOperatorName;
  readonly set?: 'ForAnyValue' | 'ForAllValues';
  readonly ifExists: boolean;
  readonly info: OperatorInfo;
}

/** Returns the parsed operator, or a message saying why the name is not one. */
export function parseConditionOperator(written: string): ConditionOperator | string {
  let rest = written;
  let set: 'ForAnyValue' | 'ForAllValues' | undefined;
  if (rest.startsWith('ForAnyValue:')) {
    set = 'ForAnyValue';
    rest = rest.slice('ForAnyValue:'.length);
  } else if (rest.startsWith('ForAllValues:')) {
    set = 'ForAllValues';
    rest = rest.slice('ForAllValues:'.length);
  }
  let ifExists = false;
  if (rest.endsWith('IfExists')) {
    ifExists = true;
    rest = rest.slice(0, -'IfExists'.length);
  }
  if (!Object.hasOwn(CONDITION_OPERATORS, rest)) {
    return `unknown condition operator ${JSON.stringify(written)}`;
  }
  const name = rest as ConditionOperatorName;
  if (name === 'Null' && (ifExists || set !== undefined)) {
    return `condition operator ${JSON.stringify(written)}: Null takes neither IfExists nor a ForAnyValue:/ForAllValues: qualifier`;
  }
  const info: OperatorInfo = CONDITION_OPERATORS[name];
  return set === undefined ? { written, name, ifExists, info } : { written, name, set, ifExists, info };
}
