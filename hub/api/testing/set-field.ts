/**
 * Sets (or, with `undefined`, deletes) the field at a dotted path such as `spec.taints.0.effect`
 * in a copy of `object`, creating nothing on the way: tests use it to break valid objects in
 * ways the TS types would not allow.
 */
export function withField(object: unknown, path: string, value: unknown): unknown {
  const copy = structuredClone(object);
  const keys = path.split('.');
  const last = keys.pop() as string;
  let node: unknown = copy;
  for (const key of keys) {
    if (typeof node !== 'object' || node === null) throw new TypeError(`no ${key} in ${path}`);
    node = (node as Record<string, unknown>)[key];
  }
  if (typeof node !== 'object' || node === null) throw new TypeError(`no parent for ${path}`);
  if (value === undefined) delete (node as Record<string, unknown>)[last];
  else (node as Record<string, unknown>)[last] = value;
  return copy;
}
