// The syntax tree that the parser produces: what the user wrote, with where they wrote it.
// It carries no meaning yet; src/lower gives it one (names resolved, defs inlined, options fixed).

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

export interface Definition {
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

/** `import "path/to/file.loss"`. */
export interface Import { path: string; span: Span }

export interface Program {
  file: string;
  imports: Import[];
  definitions: Definition[];
}
