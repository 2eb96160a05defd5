// Type-level reading of lossc source given as a string literal: which names it defines as
// `loss` and as `regularizer`, so `compile('loss focal(...) = ...')` is typed `{ focal: LossFactory }`.
// A keyword counts at the start of the text or after whitespace, followed by a name and `(`.
// Types only: nothing here exists at run time.

type Space = ' ' | '\n' | '\t' | '\r';
type NotInName = Space | '=' | '(' | ')' | ',' | ';' | '#' | '"' | '.' | '+' | '-' | '*' | '/';

type TrimStart<S extends string> = S extends `${Space}${infer R}` ? TrimStart<R> : S;
type TrimEnd<S extends string> = S extends `${infer R}${Space}` ? TrimEnd<R> : S;
type Trim<S extends string> = TrimEnd<TrimStart<S>>;

type IsName<S extends string> = S extends '' ? false : S extends `${string}${NotInName}${string}` ? false : true;
type KeywordStart<B extends string> = B extends '' ? true : B extends `${string}${Space}` ? true : false;

/** The names `Kw name(` introduces in S (tail-recursive, so long sources are fine). */
type NamesAfter<S extends string, Kw extends string, Acc extends string = never> =
  S extends `${infer B}${Kw} ${infer N}(${infer Rest}`
    ? KeywordStart<B> extends true
      ? IsName<Trim<N>> extends true
        ? NamesAfter<Rest, Kw, Acc | Trim<N>>
        : NamesAfter<`${N}(${Rest}`, Kw, Acc>
      : NamesAfter<`${N}(${Rest}`, Kw, Acc>
    : Acc;

/** `{ name: 'loss' | 'regularizer' }` for each definition of a literal source; any name for a wide `string`. */
export type DefinedNames<S extends string> = string extends S
  ? Record<string, 'loss' | 'regularizer'>
  : { [K in NamesAfter<S, 'loss'> | NamesAfter<S, 'regularizer'>]: K extends NamesAfter<S, 'regularizer'> ? 'regularizer' : 'loss' };

type Digit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9';
/** A character `camel` capitalises after `_` (a lowercase letter or a digit). */
type Raised<C extends string> = C extends Digit ? true : C extends Lowercase<C> ? (C extends Uppercase<C> ? false : true) : false;

/** snake_case → camelCase, as `camel` in registry.ts does it (`_x` → `X`; `__x` → `_X`; `_X` stays). */
export type CamelCase<S extends string> = S extends `${infer H}_${infer T}`
  ? T extends `${infer C}${infer R}`
    ? Raised<C> extends true ? `${H}${Uppercase<C>}${CamelCase<R>}` : `${H}_${CamelCase<T>}`
    : S
  : S;
