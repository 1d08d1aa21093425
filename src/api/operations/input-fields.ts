/**
 * Typed reads from an input object that the model-driven deserializer has already validated
 * (required members present, types converted). A wrong type here is a server bug, not a client error.
 */
export type Input = Record<string, unknown>;

export function req(input: Input, name: string): string {
  const v = input[name];
  if (typeof v !== 'string') throw new TypeError(`validated input lacks string member ${name}`);
  return v;
}

export function opt(input: Input, name: string): string | undefined {
  const v = input[name];
  return typeof v === 'string' ? v : undefined;
}

export function optBool(input: Input, name: string): boolean | undefined {
  const v = input[name];
  return typeof v === 'boolean' ? v : undefined;
}

export function optNum(input: Input, name: string): number | undefined {
  const v = input[name];
  return typeof v === 'number' ? v : undefined;
}

export function optStrings(input: Input, name: string): string[] | undefined {
  const v = input[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
}

export function optObject(input: Input, name: string): Input | undefined {
  const v = input[name];
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Input) : undefined;
}

export function optStringMap(input: Input, name: string): Record<string, string> | undefined {
  const o = optObject(input, name);
  if (!o) return undefined;
  return Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

export function listInput(input: Input): { pageSize?: number; marker?: string; ascendingOrder?: boolean } {
  const pageSize = optNum(input, 'pageSize');
  const marker = opt(input, 'marker');
  const ascendingOrder = optBool(input, 'ascendingOrder');
  return {
    ...(pageSize !== undefined ? { pageSize } : {}),
    ...(marker !== undefined ? { marker } : {}),
    ...(ascendingOrder !== undefined ? { ascendingOrder } : {}),
  };
}
