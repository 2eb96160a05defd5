// The lossc parser: a chevrotain CstParser. Rules only — no semantics. The concrete syntax tree
// it builds is turned into the syntax tree of grammar/ast.ts by grammar/visitor.ts, and
// grammar/lossc.ebnf documents the same rules for people.
//
// Operators are read as a flat chain, `operand { binaryOperator operand }`, where an operand is
// an atom with optional prefix operators; the visitor applies precedence and associativity with
// an explicit operator stack. This has two purposes:
//   - every chain is a loop (MANY), never recursion, so `1+1+...+1` with 100 000 terms parses
//     in constant stack;
//   - one level of parentheses costs two rule calls (expression, operand) instead of
//     one per precedence level, so the parser's stack stays shallow (the nesting limit in
//     grammar/index.ts guards it).

import { CstParser, type IParserErrorMessageProvider } from './chevrotain.js';
import {
  parserTokens,
  Loss, Def, Regularizer, Import, Let, If, Then, Else, True, False, None,
  Attribute, CallName, Identifier, NumberLiteral, StringLiteral,
  LParen, RParen, LBracket, RBracket, Comma, Semicolon, Colon, Ellipsis, Equals,
  BinaryOperator, PrefixOperator,
} from './lexer.js';

export interface LosscParserOptions {
  /** Turns chevrotain's error descriptions into messages (grammar/index.ts supplies one). */
  errorMessageProvider?: IParserErrorMessageProvider;
  /** Stop a parse (throw TooManyErrors) once it has recorded this many errors. */
  maxErrors?: number;
  /**
   * Run chevrotain's checks of the grammar (ambiguities, left recursion ...) when built. Off by
   * default: they took half the construction, which the first parse of a process waits for;
   * the tests build the parser with them.
   */
  validate?: boolean;
}

/**
 * Thrown out of a parse that has recorded its `maxErrors` errors (they stay in `parser.errors`).
 * Each recovery scans the rest of the input for a token to resync at, so recovering from every
 * token of a long run of garbage (`o = , 1, 1, ...`) was quadratic: seconds for 100 KB.
 */
export class TooManyErrors extends Error {}

interface ChevrotainInternals {
  SAVE_ERROR(error: unknown): unknown;
  _errors: unknown[];
}

export class LosscParser extends CstParser {
  constructor(options: LosscParserOptions = {}) {
    super(parserTokens, {
      recoveryEnabled: true,
      skipValidations: !options.validate,
      maxLookahead: 3,
      nodeLocationTracking: 'none',
      ...(options.errorMessageProvider ? { errorMessageProvider: options.errorMessageProvider } : {}),
    });
    this.performSelfAnalysis();
    const max = options.maxErrors;
    if (max !== undefined) {
      const self = this as unknown as ChevrotainInternals;
      const save = self.SAVE_ERROR.bind(this);
      self.SAVE_ERROR = (error: unknown) => {
        const saved = save(error);
        if (self._errors.length >= max) throw new TooManyErrors(`${max} syntax errors`);
        return saved;
      };
    }
  }

  // ---- top level ------------------------------------------------------------------------------

  /** program = { definition | importStatement } */
  public program = this.RULE('program', () => {
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.definition) },
        { ALT: () => this.SUBRULE(this.importStatement) },
      ]);
    });
  });

  /** importStatement = "import" STRING */
  public importStatement = this.RULE('importStatement', () => {
    this.CONSUME(Import);
    this.CONSUME(StringLiteral);
  });

  /** definition = { ATTRIBUTE } ("loss" | "def" | "regularizer") NAME "(" [paramList] [";" [optionList]] ")" "=" body */
  public definition = this.RULE('definition', () => {
    this.MANY(() => this.CONSUME(Attribute));
    this.OR([
      { ALT: () => this.CONSUME(Loss) },
      { ALT: () => this.CONSUME(Def) },
      { ALT: () => this.CONSUME(Regularizer) },
    ]);
    // `name(` lexes as a CallName, `name (` as an Identifier: both are fine here.
    this.OR2([
      { ALT: () => this.CONSUME(Identifier) },
      { ALT: () => this.CONSUME(CallName) },
    ]);
    this.CONSUME(LParen);
    this.OPTION(() => this.SUBRULE(this.paramList));
    this.OPTION2(() => {
      this.CONSUME(Semicolon);
      this.OPTION3(() => this.SUBRULE(this.optionList));
    });
    this.CONSUME(RParen);
    this.CONSUME(Equals);
    this.SUBRULE(this.body);
  });

  /** paramList = param { "," param } */
  public paramList = this.RULE('paramList', () => {
    this.SUBRULE(this.param);
    this.MANY(() => {
      this.CONSUME(Comma);
      this.SUBRULE2(this.param);
    });
  });

  /** param = IDENT [":" typeAnnotation] */
  public param = this.RULE('param', () => {
    this.CONSUME(Identifier);
    this.OPTION(() => {
      this.CONSUME(Colon);
      this.SUBRULE(this.typeAnnotation);
    });
  });

  /** typeAnnotation = IDENT [shape] | shape      (the IDENT is a dtype: float, int or bool) */
  public typeAnnotation = this.RULE('typeAnnotation', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(Identifier);
          this.OPTION(() => this.SUBRULE(this.shape));
        },
      },
      { ALT: () => this.SUBRULE2(this.shape) },
    ]);
  });

  /** shape = "[" [dimension { "," dimension }] "]" */
  public shape = this.RULE('shape', () => {
    this.CONSUME(LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.dimension);
      this.MANY(() => {
        this.CONSUME(Comma);
        this.SUBRULE2(this.dimension);
      });
    });
    this.CONSUME(RBracket);
  });

  /** dimension = NUMBER | IDENT | "..." */
  public dimension = this.RULE('dimension', () => {
    this.OR([
      { ALT: () => this.CONSUME(NumberLiteral) },
      { ALT: () => this.CONSUME(Identifier) },
      { ALT: () => this.CONSUME(Ellipsis) },
    ]);
  });

  /** optionList = optionDecl { "," optionDecl } */
  public optionList = this.RULE('optionList', () => {
    this.SUBRULE(this.optionDecl);
    this.MANY(() => {
      this.CONSUME(Comma);
      this.SUBRULE2(this.optionDecl);
    });
  });

  /** optionDecl = IDENT "=" expression */
  public optionDecl = this.RULE('optionDecl', () => {
    this.CONSUME(Identifier);
    this.CONSUME(Equals);
    this.SUBRULE(this.expression);
  });

  /** body = { letBinding } expression */
  public body = this.RULE('body', () => {
    this.MANY(() => this.SUBRULE(this.letBinding));
    this.SUBRULE(this.expression);
  });

  /** letBinding = "let" (IDENT | destructuring) "=" expression */
  public letBinding = this.RULE('letBinding', () => {
    this.CONSUME(Let);
    this.OR([
      { ALT: () => this.CONSUME(Identifier) },
      { ALT: () => this.SUBRULE(this.destructuring) },
    ]);
    this.CONSUME(Equals);
    this.SUBRULE(this.expression);
  });

  /** destructuring = "[" IDENT { "," IDENT } "]" */
  public destructuring = this.RULE('destructuring', () => {
    this.CONSUME(LBracket);
    this.CONSUME(Identifier);
    this.MANY(() => {
      this.CONSUME(Comma);
      this.CONSUME2(Identifier);
    });
    this.CONSUME(RBracket);
  });

  // ---- expressions ----------------------------------------------------------------------------

  /**
   * expression = ifExpression | operand { BINARY_OPERATOR operand }
   * BINARY_OPERATOR is one of `or and < <= > >= == != + - * / ^` (precedence: see lossc.ebnf).
   */
  public expression = this.RULE('expression', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.ifExpression) },
      {
        ALT: () => {
          this.SUBRULE(this.operand);
          this.MANY({
            // A `-` that starts a line at the column of the enclosing `let` begins the body's
            // result rather than continuing the let (see markLayoutBreaks in grammar/index.ts).
            GATE: () => (this.LA(1) as { layoutBreak?: boolean }).layoutBreak !== true,
            DEF: () => {
              this.CONSUME(BinaryOperator);
              this.SUBRULE2(this.operand);
            },
          });
        },
      },
    ]);
  });

  /**
   * ifExpression = "if" expression "then" expression
   *                { "else" "if" expression "then" expression } "else" expression
   * `else if` chains are a loop; the final `else` branch extends as far as possible.
   */
  public ifExpression = this.RULE('ifExpression', () => {
    this.CONSUME(If);
    this.SUBRULE(this.expression);
    this.CONSUME(Then);
    this.SUBRULE2(this.expression);
    this.MANY(() => {
      this.CONSUME(Else);
      this.CONSUME2(If);
      this.SUBRULE3(this.expression);
      this.CONSUME2(Then);
      this.SUBRULE4(this.expression);
    });
    this.CONSUME2(Else);
    this.SUBRULE5(this.expression);
  });

  /**
   * operand = { PREFIX_OPERATOR } ( NUMBER | STRING | "true" | "false" | "none" | IDENT
   *                                | call | "(" expression ")" | list )
   * PREFIX_OPERATOR is `-` or `not`. (The atoms are inlined here rather than in a rule of
   * their own: one rule call fewer per operand and per level of parentheses.)
   */
  public operand = this.RULE('operand', () => {
    this.MANY(() => this.CONSUME(PrefixOperator));
    this.OR([
      { ALT: () => this.CONSUME(NumberLiteral) },
      { ALT: () => this.CONSUME(StringLiteral) },
      { ALT: () => this.CONSUME(True) },
      { ALT: () => this.CONSUME(False) },
      { ALT: () => this.CONSUME(None) },
      { ALT: () => this.CONSUME(Identifier) },
      { ALT: () => this.SUBRULE(this.call) },
      {
        ALT: () => {
          this.CONSUME(LParen);
          this.SUBRULE(this.expression);
          this.CONSUME(RParen);
        },
      },
      { ALT: () => this.SUBRULE(this.list) },
    ]);
  });

  /** call = CALL_NAME "(" [argument { "," argument } [","]] ")"    (no space before "(") */
  public call = this.RULE('call', () => {
    this.CONSUME(CallName);
    this.CONSUME(LParen);
    this.OPTION(() => {
      this.SUBRULE(this.argument);
      this.MANY(() => {
        this.CONSUME(Comma);
        this.SUBRULE2(this.argument);
      });
      this.OPTION2(() => this.CONSUME2(Comma));
    });
    this.CONSUME(RParen);
  });

  /** argument = [IDENT "="] expression    (keyword arguments come after positional ones) */
  public argument = this.RULE('argument', () => {
    this.OPTION(() => {
      this.CONSUME(Identifier);
      this.CONSUME(Equals);
    });
    this.SUBRULE(this.expression);
  });

  /** list = "[" [expression { "," expression } [","]] "]" */
  public list = this.RULE('list', () => {
    this.CONSUME(LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.expression);
      this.MANY(() => {
        this.CONSUME(Comma);
        this.SUBRULE2(this.expression);
      });
      this.OPTION2(() => this.CONSUME2(Comma));
    });
    this.CONSUME(RBracket);
  });
}

/** The names of all rules, for tools and tests. */
export const RULE_NAMES = [
  'program', 'importStatement', 'definition', 'paramList', 'param', 'typeAnnotation', 'shape',
  'dimension', 'optionList', 'optionDecl', 'body', 'letBinding', 'destructuring', 'expression',
  'ifExpression', 'operand', 'call', 'argument', 'list',
] as const;
export type RuleName = (typeof RULE_NAMES)[number];
