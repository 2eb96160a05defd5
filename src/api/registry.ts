// The objects users reach definitions through (`losses.huber`, `regularizers.l2`, and what
// `compile` returns): filled on first use, with a camelCase twin for every snake_case name,
// and an unknown name is an error that suggests the nearest known one.

import { LosscError, didYouMean } from '../errors.js';

export function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Add `value` under `name` and its camelCase twin (the snake_case name wins a clash). */
export function addNamed<T>(into: Record<string, T>, name: string, value: T): void {
  into[name] = value;
  into[camel(name)] ??= value;
}

/** A record built by `fill` on first access; reading an unknown name throws a LosscError. */
export function namedRegistry<T>(what: string, fill: () => Record<string, T>): Record<string, T> {
  let entries: Record<string, T> | undefined;
  const get = () => (entries ??= fill());
  return new Proxy({} as Record<string, T>, {
    get(_t, prop) {
      const all = get();
      if (typeof prop !== 'string' || prop in all) return Reflect.get(all, prop);
      // Probes by tools (promises, JSON, inspection) are not typos.
      if (prop === 'then' || prop === 'toJSON' || prop.startsWith('__') || prop === 'constructor') return undefined;
      throw new LosscError('name', `unknown ${what} \`${prop}\`${didYouMean(prop, Object.keys(all))}`);
    },
    has: (_t, prop) => prop in get(),
    ownKeys: () => Reflect.ownKeys(get()),
    getOwnPropertyDescriptor: (_t, prop) => Reflect.getOwnPropertyDescriptor(get(), prop),
  });
}
