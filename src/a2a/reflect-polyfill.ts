/**
 * @peculiar/x509 uses tsyringe, which refuses to load without the Reflect
 * metadata API (getMetadata / defineMetadata / getOwnMetadata). The usual
 * polyfill package is not a dependency, so this is the minimal subset
 * tsyringe calls, on WeakMaps. Import this module before @peculiar/x509.
 */
type Key = unknown;
const store = new WeakMap<object, Map<string | symbol | undefined, Map<Key, unknown>>>();

function table(
  target: object,
  property: string | symbol | undefined,
  create: boolean,
): Map<Key, unknown> | undefined {
  let byProp = store.get(target);
  if (!byProp) {
    if (!create) return undefined;
    byProp = new Map();
    store.set(target, byProp);
  }
  let meta = byProp.get(property);
  if (!meta && create) {
    meta = new Map();
    byProp.set(property, meta);
  }
  return meta;
}

interface ReflectMetadataApi {
  getMetadata?: unknown;
}

const R = Reflect as typeof Reflect & ReflectMetadataApi & Record<string, unknown>;
if (typeof R.getMetadata !== 'function') {
  const getOwnMetadata = (key: Key, target: object, property?: string | symbol): unknown =>
    table(target, property, false)?.get(key);
  const getMetadata = (key: Key, target: object, property?: string | symbol): unknown => {
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
      const meta = table(t, property, false);
      if (meta?.has(key)) return meta.get(key);
    }
    return undefined;
  };
  const defineMetadata = (key: Key, value: unknown, target: object, property?: string | symbol): void => {
    table(target, property, true)!.set(key, value);
  };
  const metadata =
    (key: Key, value: unknown) =>
    (target: object, property?: string | symbol): void =>
      defineMetadata(key, value, target, property);
  Object.assign(R, {
    getOwnMetadata,
    getMetadata,
    defineMetadata,
    metadata,
    hasMetadata: (key: Key, target: object, property?: string | symbol) =>
      getMetadata(key, target, property) !== undefined,
    hasOwnMetadata: (key: Key, target: object, property?: string | symbol) =>
      table(target, property, false)?.has(key) ?? false,
  });
}

export {};
