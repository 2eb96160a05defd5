// The syntax tree that the parser produces: what the user wrote, with where they wrote it.
// It carries no meaning yet; src/lower gives it one (names resolved, defs inlined, options fixed).

/** Every reserved word of the language (the lexer's keyword tokens; test/grammar.test.ts checks they agree). */
export const KEYWORDS: readonly string[] = Object.freeze([
  'loss', 'def', 'regularizer', 'import', 'let', 'if', 'then', 'else',
  'and', 'or', 'not', 'true', 'false', 'none',
]);

/** A place in a source file. Lines and columns count from 1; offset counts from 0. */
export interface Span {
  file: string;
  line: number;
  column: number;
  offset: number;
  /** Length in characters of the spanned text (at least 1). */
  length: number;
}

export type Expr =
  | NumberLit
  | BoolLit
  | StringLit
  | NoneLit
  | ListExpr
  | NameRef
  | Unary
  | Binary
  | Call
  | IfExpr;

export interface NumberLit { kind: 'number'; value: number; text: string; span: Span }
export interface BoolLit { kind: 'bool'; value: boolean; span: Span }
export interface StringLit { kind: 'string'; value: string; span: Span }
/** `none`: the absent value of an option such as `ignore_class = none` or `axis = none`. */
export interface NoneLit { kind: 'none'; span: Span }
/** `[a, b, c]`: a list literal (axes, per-class weights). */
export interface ListExpr { kind: 'list'; items: Expr[]; span: Span }
export interface NameRef { kind: 'name'; name: string; span: Span }
/** `-x` and `not x`. */
export interface Unary { kind: 'unary'; op: '-' | 'not'; operand: Expr; span: Span }
export type BinaryOp =
  | '+' | '-' | '*' | '/' | '^'
  | '<' | '<=' | '>' | '>=' | '==' | '!='
  | 'and' | 'or';
export interface Binary { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; span: Span }
export interface KeywordArg { name: string; value: Expr; span: Span }
/** `f(a, b, axis = -1)`. `span` covers the callee name. */
export interface Call { kind: 'call'; callee: string; args: Expr[]; kwargs: KeywordArg[]; span: Span }
/** `if c then a else b`: chosen at compile time; `c` must be a boolean option. */
export interface IfExpr { kind: 'if'; cond: Expr; then: Expr; else: Expr; span: Span }

/** `let x = e` or `let [a, b, c] = e` (destructuring a list such as `split(...)`). */
export interface LetBinding {
  names: string[];
  destructure: boolean;
  value: Expr;
  span: Span;
}

/** The right-hand side of a definition: zero or more `let`s, then the result expression. */
export interface Body { lets: LetBinding[]; result: Expr }

/** A dimension in a shape annotation: a number, a symbol such as `N`, or `...` (any leading dims). */
export type DimAnnotation =
  | { kind: 'fixed'; size: number }
  | { kind: 'symbol'; name: string }
  | { kind: 'ellipsis' };

/** `y_true: int[..., 1]`: optional dtype and shape of a tensor parameter. */
export interface TypeAnnotation {
  dtype?: 'float' | 'int' | 'bool';
  shape?: DimAnnotation[];
  span: Span;
}

export interface Param { name: string; type?: TypeAnnotation; span: Span }

/** An option after `;` with its default, e.g. `gamma = 2.0`. */
export interface OptionDecl { name: string; default: Expr; span: Span }

export type DefinitionKind = 'loss' | 'def' | 'regularizer';

/**
 * What an attribute (`@name` on the lines above a definition's keyword) says about the
 * definition, and the kinds of definition it may mark. A definition says what it needs here
 * rather than being recognised by its name.
 */
export const ATTRIBUTES = {
  no_align: {
    kinds: ['loss'],
    doc: "y_true and y_pred reach the loss as they are, without Keras's rank alignment (which squeezes or expands a last axis of size 1 so the two ranks match), as a Keras `Loss` subclass takes them",
  },
} as const satisfies Record<string, { kinds: readonly DefinitionKind[]; doc: string }>;

export type AttributeName = keyof typeof ATTRIBUTES;

/** `@no_align` above a definition. */
export interface Attribute { name: AttributeName; span: Span }

export interface Definition {
  /** Its attributes, in source order (each known and written once; checked after parsing). */
  attributes: Attribute[];
  kind: DefinitionKind;
  name: string;
  params: Param[];
  options: OptionDecl[];
  body: Body;
  /** The `#` comment block directly above the definition, without the `#` markers. */
  doc: string;
  span: Span;
  /** Span of the name, for pointing at it in errors. */
  nameSpan: Span;
}

/** Whether `def` carries the attribute `name`. */
export const hasAttribute = (def: Pick<Definition, 'attributes'>, name: AttributeName): boolean => def.attributes.some((a) => a.name === name);

/** `import "path/to/file.loss"`. */
export interface Import { path: string; span: Span }

export interface Program {
  file: string;
  imports: Import[];
  definitions: Definition[];
}
