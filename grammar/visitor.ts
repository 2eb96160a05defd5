// CST → AST: the one place where the parser's concrete syntax tree (grammar/parser.ts) is given
// meaning as the syntax tree of grammar/ast.ts.
//
// Besides building nodes, this is where the rules that are easier to check on a tree than in
// the grammar are enforced, each with a message that names the problem:
//   - operator precedence and associativity (the parser reads flat operator chains);
//   - comparisons do not chain (`a < b < c`), and `not` does not follow an arithmetic or
//     comparison operator directly (`a == not b`);
//   - duplicate parameter/option names, duplicate keyword arguments, positional arguments after
//     keyword arguments, duplicate names in `let [a, b] = ...`;
//   - dtypes (`float`, `int`, `bool`) and dimensions (whole numbers, names, at most one `...`);
//   - attributes (`@no_align`): known, allowed on the definition's kind, written once.
//
// Nothing here recurses along a chain: operator chains, `else if` chains and lists are loops,
// so only real nesting (parentheses, brackets, calls, `if` branches) uses the stack, and that is
// bounded by the nesting limit checked before parsing (grammar/index.ts).

import type { CstNode, IToken } from './chevrotain.js';
import { ATTRIBUTES, type Attribute, type AttributeName } from './ast.js';
import type {
  BinaryOp, Body, Call, Definition, DefinitionKind, DimAnnotation, Expr, IfExpr, Import,
  KeywordArg, LetBinding, OptionDecl, Param, Span, TypeAnnotation,
} from './ast.js';
import { didYouMean } from '../src/errors.js';
import { decodeString, tokenSpan, type RawError } from './lexer.js';

export interface VisitContext {
  file: string;
  text: string;
  /** `#` comment tokens of the file, for doc comments. */
  comments: IToken[];
  /** Where errors found while building the tree go (may be replaced between uses). */
  errors: RawError[];
}

// ---- CST access helpers ---------------------------------------------------------------------

const NO_TOKENS: readonly IToken[] = Object.freeze([]);
const NO_NODES: readonly CstNode[] = Object.freeze([]);

function tokens(node: CstNode, name: string): readonly IToken[] {
  return (node.children[name] as IToken[] | undefined) ?? NO_TOKENS;
}
function token(node: CstNode, name: string, i = 0): IToken | undefined {
  return tokens(node, name)[i];
}
function nodes(node: CstNode, name: string): readonly CstNode[] {
  return (node.children[name] as CstNode[] | undefined) ?? NO_NODES;
}
function child(node: CstNode, name: string, i = 0): CstNode | undefined {
  return nodes(node, name)[i];
}
/** The first token of any of the given names (rules with alternatives of single tokens). */
function firstToken(node: CstNode, names: readonly string[]): IToken | undefined {
  for (const n of names) {
    const t = token(node, n);
    if (t) return t;
  }
  return undefined;
}

/** Thrown only when the tree is incomplete, which the caller prevents; never reaches users. */
class IncompleteTree extends Error {}
function need<T>(x: T | undefined, what: string): T {
  if (x === undefined) throw new IncompleteTree(`incomplete syntax tree: missing ${what}`);
  return x;
}

// ---- operators ------------------------------------------------------------------------------

const BINARY_PRECEDENCE: Record<BinaryOp, number> = {
  or: 1,
  and: 2,
  // `not` (prefix) is 3
  '<': 4, '<=': 4, '>': 4, '>=': 4, '==': 4, '!=': 4,
  '+': 5, '-': 5,
  '*': 6, '/': 6,
  // unary `-` (prefix) is 7
  '^': 8,
};
const NOT_PRECEDENCE = 3;
const NEG_PRECEDENCE = 7;
const COMPARISON_PRECEDENCE = 4;

type OpEntry =
  | { prefix: false; op: BinaryOp; tok: IToken; prec: number }
  | { prefix: true; op: '-' | 'not'; tok: IToken; prec: number };

export class AstBuilder {
  private readonly file: string;
  /** Line number → text of a comment that is alone on its line. */
  private readonly commentLines = new Map<number, string>();

  constructor(private readonly ctx: VisitContext) {
    this.file = ctx.file;
    for (const c of ctx.comments) {
      const lineStart = c.startOffset - ((c.startColumn ?? 1) - 1);
      if (/^[ \t]*$/.test(ctx.text.slice(lineStart, c.startOffset))) {
        this.commentLines.set(c.startLine ?? 0, c.image);
      }
    }
  }

  private span(tok: IToken): Span {
    return tokenSpan(this.file, tok);
  }

  /** From the start of `a` to the end of `b`, if both are on one line; else just `a`. */
  private spanBetween(a: IToken, b: IToken | undefined): Span {
    const s = this.span(a);
    if (b && b.startLine === a.startLine && b.endOffset !== undefined && b.endOffset >= a.startOffset) {
      s.length = b.endOffset - a.startOffset + 1;
    }
    return s;
  }

  private error(message: string, span: Span): void {
    this.ctx.errors.push({ kind: 'syntax', detail: message, span });
  }

  private where(span: Span): string {
    return `${span.line}:${span.column}`;
  }

  // ---- top level ----------------------------------------------------------------------------

  /** `program` → the imports and definitions it holds, in source order. */
  program(node: CstNode): { imports: Import[]; definitions: Definition[] } {
    return {
      imports: nodes(node, 'importStatement').map((n) => this.importStatement(n)),
      definitions: nodes(node, 'definition').map((n) => this.definition(n)),
    };
  }

  importStatement(node: CstNode): Import {
    const kw = need(token(node, 'Import'), '`import`');
    const str = need(token(node, 'StringLiteral'), 'path');
    return { path: decodeString(str.image).value, span: this.spanBetween(kw, str) };
  }

  definition(node: CstNode): Definition {
    const kw = need(firstToken(node, ['Loss', 'Def', 'Regularizer']), 'definition keyword');
    const nameTok = need(firstToken(node, ['Identifier', 'CallName']), 'definition name');
    const kind = kw.image as DefinitionKind;
    const params: Param[] = nodes(child(node, 'paramList') ?? emptyNode, 'param').map((p) => this.param(p));
    const options: OptionDecl[] = nodes(child(node, 'optionList') ?? emptyNode, 'optionDecl').map((o) =>
      this.optionDecl(o),
    );
    // One namespace for parameters and options.
    const seen = new Map<string, { what: string; span: Span }>();
    for (const [what, list] of [['parameter', params], ['option', options]] as const) {
      for (const item of list) {
        const prev = seen.get(item.name);
        if (prev) {
          this.error(
            `duplicate name \`${item.name}\`: already declared as ${prev.what === 'parameter' ? 'a parameter' : 'an option'} at ${this.where(prev.span)}`,
            item.span,
          );
        } else {
          seen.set(item.name, { what, span: item.span });
        }
      }
    }
    const attrToks = tokens(node, 'Attribute');
    return {
      attributes: this.attributes(attrToks, kind),
      kind,
      name: nameTok.image,
      params,
      options,
      body: this.body(need(child(node, 'body'), 'body')),
      doc: this.docAbove(attrToks[0] ?? kw),
      span: this.spanBetween(kw, nameTok),
      nameSpan: this.span(nameTok),
    };
  }

  /** A definition's `@name`s: each one known, allowed on this kind of definition, and written once. */
  private attributes(toks: readonly IToken[], kind: DefinitionKind): Attribute[] {
    const out: Attribute[] = [];
    for (const t of toks) {
      const name = t.image.slice(1) as AttributeName;
      const span = this.span(t);
      const kinds: readonly string[] | undefined = Object.hasOwn(ATTRIBUTES, name) ? ATTRIBUTES[name].kinds : undefined;
      if (!kinds) this.error(`unknown attribute \`${t.image}\`: the attributes are ${Object.keys(ATTRIBUTES).map((k) => `\`@${k}\``).join(', ')}`, span);
      else if (!kinds.includes(kind)) this.error(`\`${t.image}\` applies to ${kinds.map((k) => `a \`${k}\``).join(' or ')}, not to a \`${kind}\``, span);
      else if (out.some((a) => a.name === name)) this.error(`\`${t.image}\` is written twice`, span);
      else out.push({ name, span });
    }
    return out;
  }

  /** The block of comment-only lines ending directly above `kw`'s line, `#` markers stripped. */
  private docAbove(kw: IToken): string {
    const line = kw.startLine ?? 0;
    // Only a keyword that starts its line has a doc comment.
    const lineStart = kw.startOffset - ((kw.startColumn ?? 1) - 1);
    if (!/^[ \t]*$/.test(this.ctx.text.slice(lineStart, kw.startOffset))) return '';
    const lines: string[] = [];
    for (let l = line - 1; this.commentLines.has(l); l--) {
      lines.push(this.commentLines.get(l)!.replace(/^# ?/, '').trimEnd());
    }
    return lines.reverse().join('\n');
  }

  param(node: CstNode): Param {
    const nameTok = need(token(node, 'Identifier'), 'parameter name');
    const typeNode = child(node, 'typeAnnotation');
    const p: Param = { name: nameTok.image, span: this.span(nameTok) };
    if (typeNode) p.type = this.typeAnnotation(typeNode);
    return p;
  }

  typeAnnotation(node: CstNode): TypeAnnotation {
    const dtypeTok = token(node, 'Identifier');
    const shapeNode = child(node, 'shape');
    const first = dtypeTok ?? need(shapeNode && token(shapeNode, 'LBracket'), 'type');
    const last = shapeNode ? token(shapeNode, 'RBracket') : dtypeTok;
    const t: TypeAnnotation = { span: this.spanBetween(first, last) };
    if (dtypeTok) {
      const d = dtypeTok.image;
      if (d === 'float' || d === 'int' || d === 'bool') {
        t.dtype = d;
      } else {
        const hint = didYouMean(d, ['float', 'int', 'bool']);
        this.error(
          `unknown dtype \`${d}\`: a type is \`float\`, \`int\` or \`bool\`, and/or a shape in brackets such as \`[N, C]\`${hint || (shapeNode || !/^[A-Z]|^.$/.test(d) ? '' : ` (for a shape, write \`[${d}]\`)`)}`,
          this.span(dtypeTok),
        );
      }
    }
    if (shapeNode) t.shape = this.shape(shapeNode);
    return t;
  }

  shape(node: CstNode): DimAnnotation[] {
    const dims: DimAnnotation[] = [];
    let ellipsis: IToken | undefined;
    for (const d of nodes(node, 'dimension')) {
      const num = token(d, 'NumberLiteral');
      const sym = token(d, 'Identifier');
      const ell = token(d, 'Ellipsis');
      if (num) {
        if (!/^\d+$/.test(num.image) || !Number.isSafeInteger(Number(num.image))) {
          this.error(
            `a dimension must be a whole number, a name or \`...\`, not \`${num.image}\``,
            this.span(num),
          );
        }
        dims.push({ kind: 'fixed', size: Number(num.image) });
      } else if (sym) {
        dims.push({ kind: 'symbol', name: sym.image });
      } else if (ell) {
        if (ellipsis) {
          this.error(
            `a shape may contain \`...\` only once (the first is at ${ellipsis.startLine}:${ellipsis.startColumn})`,
            this.span(ell),
          );
        }
        ellipsis ??= ell;
        dims.push({ kind: 'ellipsis' });
      }
    }
    return dims;
  }

  optionDecl(node: CstNode): OptionDecl {
    const nameTok = need(token(node, 'Identifier'), 'option name');
    return {
      name: nameTok.image,
      default: this.expression(need(child(node, 'expression'), 'option default')),
      span: this.span(nameTok),
    };
  }

  body(node: CstNode): Body {
    return {
      lets: nodes(node, 'letBinding').map((l) => this.letBinding(l)),
      result: this.expression(need(child(node, 'expression'), 'result expression')),
    };
  }

  letBinding(node: CstNode): LetBinding {
    const letTok = need(token(node, 'Let'), '`let`');
    const value = this.expression(need(child(node, 'expression'), 'let value'));
    const single = token(node, 'Identifier');
    if (single) {
      return { names: [single.image], destructure: false, value, span: this.spanBetween(letTok, single) };
    }
    const pattern = need(child(node, 'destructuring'), 'let names');
    const nameToks = tokens(pattern, 'Identifier');
    const seen = new Map<string, IToken>();
    for (const t of nameToks) {
      const prev = seen.get(t.image);
      if (prev) {
        this.error(
          `duplicate name \`${t.image}\` in \`let [...]\` (first at ${prev.startLine}:${prev.startColumn})`,
          this.span(t),
        );
      } else {
        seen.set(t.image, t);
      }
    }
    return {
      names: nameToks.map((t) => t.image),
      destructure: true,
      value,
      span: this.spanBetween(letTok, token(pattern, 'RBracket')),
    };
  }

  // ---- expressions --------------------------------------------------------------------------

  expression(node: CstNode): Expr {
    const ifNode = child(node, 'ifExpression');
    if (ifNode) return this.ifExpression(ifNode);
    return this.operatorChain(nodes(node, 'operand'), tokens(node, 'BinaryOperator'));
  }

  /** `if`s of an `else if` chain, built from the last `else` backwards (a loop). */
  ifExpression(node: CstNode): Expr {
    const ifs = tokens(node, 'If');
    const exprs = nodes(node, 'expression');
    need(exprs.length === 2 * ifs.length + 1 ? true : undefined, 'if branches');
    let result: Expr = this.expression(exprs[exprs.length - 1]!);
    for (let j = ifs.length - 1; j >= 0; j--) {
      const e: IfExpr = {
        kind: 'if',
        cond: this.expression(exprs[2 * j]!),
        then: this.expression(exprs[2 * j + 1]!),
        else: result,
        span: this.span(ifs[j]!),
      };
      result = e;
    }
    return result;
  }

  /**
   * Precedence and associativity over a flat chain `operand { op operand }` with an explicit
   * operator stack (shunting-yard). Loosest first: or, and, not, comparisons (non-associative),
   * + -, * /, unary -, ^ (right-associative; its right operand may start with unary minus).
   */
  private operatorChain(operands: readonly CstNode[], ops: readonly IToken[]): Expr {
    const out: Expr[] = [];
    const stack: OpEntry[] = [];
    const reduce = (): void => {
      const top = stack.pop()!;
      if (top.prefix) {
        const operand = out.pop()!;
        out.push({ kind: 'unary', op: top.op, operand, span: this.span(top.tok) });
      } else {
        const right = out.pop()!;
        const left = out.pop()!;
        out.push({ kind: 'binary', op: top.op, left, right, span: this.span(top.tok) });
      }
    };
    need(operands.length === ops.length + 1 ? true : undefined, 'operands');
    for (let i = 0; i < operands.length; i++) {
      const operand = operands[i]!;
      const prefixes = tokens(operand, 'PrefixOperator');
      // `-1` written together, and not raised to a power (`-1^2` is `-(1^2)`), is one literal.
      const num = token(operand, 'NumberLiteral');
      const minus = prefixes[prefixes.length - 1];
      if (num && minus && minus.image === '-' && minus.endOffset! + 1 === num.startOffset && ops[i]?.image !== '^') {
        this.pushPrefixes(prefixes.slice(0, -1), stack);
        const text = '-' + num.image;
        out.push({ kind: 'number', value: -Number(num.image), text, span: this.spanBetween(minus, num) });
      } else {
        this.pushPrefixes(prefixes, stack);
        out.push(this.atom(operand));
      }
      const opTok = ops[i];
      if (!opTok) break;
      const op = opTok.image as BinaryOp;
      const prec = BINARY_PRECEDENCE[op];
      const rightAssoc = op === '^';
      for (;;) {
        const top = stack[stack.length - 1];
        if (!top || top.prec < prec || (top.prec === prec && rightAssoc)) break;
        if (!top.prefix && prec === COMPARISON_PRECEDENCE && top.prec === COMPARISON_PRECEDENCE) {
          this.error(
            `comparisons cannot be chained: '${top.op}' at ${top.tok.startLine}:${top.tok.startColumn} and '${op}' here; ` +
              `write \`a ${top.op} b and b ${op} c\`, or use parentheses`,
            this.span(opTok),
          );
        }
        reduce();
      }
      stack.push({ prefix: false, op, tok: opTok, prec });
    }
    while (stack.length > 0) reduce();
    return out[0]!;
  }

  private pushPrefixes(prefixes: readonly IToken[], stack: OpEntry[]): void {
    for (const p of prefixes) {
      const op = p.image === 'not' ? 'not' : '-';
      const top = stack[stack.length - 1];
      if (op === 'not' && top && top.prec > NOT_PRECEDENCE) {
        this.error(
          `\`not\` cannot directly follow '${top.op}' (it binds more loosely); put it in parentheses: \`${top.op} (not ...)\``,
          this.span(p),
        );
      }
      stack.push({ prefix: true, op, tok: p, prec: op === 'not' ? NOT_PRECEDENCE : NEG_PRECEDENCE });
    }
  }

  /** The atom of an `operand` node (its prefix operators are handled by operatorChain). */
  atom(node: CstNode): Expr {
    const c = node.children;
    if (c['NumberLiteral']) {
      const t = token(node, 'NumberLiteral')!;
      return { kind: 'number', value: Number(t.image), text: t.image, span: this.span(t) };
    }
    if (c['StringLiteral']) {
      const t = token(node, 'StringLiteral')!;
      return { kind: 'string', value: decodeString(t.image).value, span: this.span(t) };
    }
    if (c['True']) return { kind: 'bool', value: true, span: this.span(token(node, 'True')!) };
    if (c['False']) return { kind: 'bool', value: false, span: this.span(token(node, 'False')!) };
    if (c['None']) return { kind: 'none', span: this.span(token(node, 'None')!) };
    if (c['Identifier']) {
      const t = token(node, 'Identifier')!;
      return { kind: 'name', name: t.image, span: this.span(t) };
    }
    const callNode = child(node, 'call');
    if (callNode) return this.call(callNode);
    const listNode = child(node, 'list');
    if (listNode) return this.list(listNode);
    // "(" expression ")"
    return this.expression(need(child(node, 'expression'), 'expression'));
  }

  call(node: CstNode): Call {
    const nameTok = need(token(node, 'CallName'), 'callee');
    const args: Expr[] = [];
    const kwargs: KeywordArg[] = [];
    for (const a of nodes(node, 'argument')) {
      const kwTok = token(a, 'Identifier');
      const valueNode = need(child(a, 'expression'), 'argument');
      const value = this.expression(valueNode);
      if (kwTok) {
        const dup = kwargs.find((k) => k.name === kwTok.image);
        if (dup) {
          this.error(
            `keyword argument \`${kwTok.image}\` is given twice in the call of \`${nameTok.image}\` (first at ${this.where(dup.span)})`,
            this.span(kwTok),
          );
        }
        kwargs.push({ name: kwTok.image, value, span: this.span(kwTok) });
      } else {
        if (kwargs.length > 0) {
          this.error(
            `positional argument after keyword argument \`${kwargs[kwargs.length - 1]!.name}\` in the call of \`${nameTok.image}\`; positional arguments come first`,
            this.span(firstTokenOfExpression(valueNode) ?? nameTok),
          );
        }
        args.push(value);
      }
    }
    return { kind: 'call', callee: nameTok.image, args, kwargs, span: this.span(nameTok) };
  }

  list(node: CstNode): Expr {
    const open = need(token(node, 'LBracket'), "'['");
    return {
      kind: 'list',
      items: nodes(node, 'expression').map((e) => this.expression(e)),
      span: this.spanBetween(open, token(node, 'RBracket')),
    };
  }
}

/** The first token of an `expression` node (down its left edge, without recursion). */
export function firstTokenOfExpression(expr: CstNode): IToken | undefined {
  const ifNode = child(expr, 'ifExpression');
  if (ifNode) return token(ifNode, 'If');
  const operand = child(expr, 'operand');
  if (!operand) return undefined;
  const direct = firstToken(operand, [
    'PrefixOperator', 'NumberLiteral', 'StringLiteral', 'True', 'False', 'None', 'Identifier', 'LParen',
  ]);
  if (direct) return direct;
  const callNode = child(operand, 'call');
  if (callNode) return token(callNode, 'CallName');
  const listNode = child(operand, 'list');
  return listNode ? token(listNode, 'LBracket') : undefined;
}

const emptyNode: CstNode = { name: '', children: {} };

export { IncompleteTree };
