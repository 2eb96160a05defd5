// src/lower/library.ts
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// grammar/index.ts
import {
  EOF
} from "chevrotain";

// src/errors.ts
var sources = /* @__PURE__ */ new Map();
function registerSource(file, text) {
  sources.set(file, text);
}
var LosscError = class extends Error {
  kind;
  span;
  /** The bare message, without location or caret. */
  detail;
  constructor(kind, detail, span) {
    super(formatMessage(kind, detail, span));
    this.name = "LosscError";
    this.kind = kind;
    this.detail = detail;
    this.span = span;
  }
  toJSON() {
    const out = {
      kind: this.kind,
      message: this.message
    };
    if (this.span) {
      out.file = this.span.file;
      out.line = this.span.line;
      out.column = this.span.column;
    }
    return out;
  }
};
var LosscErrors = class extends LosscError {
  errors;
  constructor(errors) {
    const first = errors[0];
    super(first.kind, errors.map((e) => e.message).join("\n\n"), void 0);
    Object.defineProperty(this, "span", { value: first.span });
    Object.defineProperty(this, "message", { value: errors.map((e) => e.message).join("\n\n") });
    this.errors = errors;
  }
};
function formatMessage(kind, detail, span) {
  if (!span) return `${kind} error: ${detail}`;
  const head = `${span.file}:${span.line}:${span.column}: ${kind} error: ${detail}`;
  const text = sources.get(span.file);
  if (text === void 0) return head;
  const lineText = nthLine(text, span.line);
  if (lineText === void 0) return head;
  const shown = lineText.length > 200 ? lineText.slice(0, 200) + "\u2026" : lineText;
  const col = Math.min(span.column - 1, shown.length);
  const width = Math.max(1, Math.min(span.length, shown.length - col));
  const gutter = String(span.line).length;
  return [
    head,
    `${" ".repeat(gutter)} |`,
    `${span.line} | ${shown}`,
    `${" ".repeat(gutter)} | ${" ".repeat(col)}${"^".repeat(width)}`
  ].join("\n");
}
function nthLine(text, line) {
  let start = 0;
  for (let i = 1; i < line; i++) {
    const nl = text.indexOf("\n", start);
    if (nl < 0) return void 0;
    start = nl + 1;
  }
  const end = text.indexOf("\n", start);
  return text.slice(start, end < 0 ? text.length : end).replace(/\r$/, "");
}
function editDistance(a, b) {
  const dp = new Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) dp[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}
function nearestName(name, known) {
  let best;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD || d === bestD && best !== void 0 && k.length < best.length) {
      best = k;
      bestD = d;
    }
  }
  if (best === void 0) return void 0;
  const limit = Math.max(1, Math.floor(Math.max(name.length, best.length) / 3));
  return bestD <= limit ? best : void 0;
}
function didYouMean(name, known) {
  const n = nearestName(name, known);
  return n ? ` (did you mean \`${n}\`?)` : "";
}

// grammar/lexer.ts
import { createToken, Lexer } from "chevrotain";
var BinaryOperator = createToken({ name: "BinaryOperator", pattern: Lexer.NA, label: "binary operator" });
var PrefixOperator = createToken({ name: "PrefixOperator", pattern: Lexer.NA, label: "prefix operator" });
var Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/, label: "name" });
var CallName = createToken({
  name: "CallName",
  pattern: /[A-Za-z_][A-Za-z0-9_]*(?=\()/,
  start_chars_hint: [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"],
  label: "function name"
});
function keyword(word, name, categories = []) {
  return createToken({
    name,
    pattern: new RegExp(word),
    longer_alt: [CallName, Identifier],
    label: `'${word}'`,
    categories
  });
}
var Loss = keyword("loss", "Loss");
var Def = keyword("def", "Def");
var Regularizer = keyword("regularizer", "Regularizer");
var Import = keyword("import", "Import");
var Let = keyword("let", "Let");
var If = keyword("if", "If");
var Then = keyword("then", "Then");
var Else = keyword("else", "Else");
var And = keyword("and", "And", [BinaryOperator]);
var Or = keyword("or", "Or", [BinaryOperator]);
var Not = keyword("not", "Not", [PrefixOperator]);
var True = keyword("true", "True");
var False = keyword("false", "False");
var None = keyword("none", "None");
var KEYWORDS = Object.freeze([
  "loss",
  "def",
  "regularizer",
  "import",
  "let",
  "if",
  "then",
  "else",
  "and",
  "or",
  "not",
  "true",
  "false",
  "none"
]);
var NumberLiteral = createToken({
  name: "NumberLiteral",
  pattern: /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/,
  label: "number"
});
var StringLiteral = createToken({
  name: "StringLiteral",
  pattern: /"(?:[^"\\\r\n]|\\[^\r\n])*"|'(?:[^'\\\r\n]|\\[^\r\n])*'/,
  label: "string"
});
var UnterminatedString = createToken({
  name: "UnterminatedString",
  pattern: /"(?:[^"\\\r\n]|\\[^\r\n])*\\?|'(?:[^'\\\r\n]|\\[^\r\n])*\\?/,
  label: "unterminated string"
});
function punct(name, text, categories = []) {
  const escaped = text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  return createToken({ name, pattern: new RegExp(escaped), label: `'${text}'`, categories });
}
var LParen = punct("LParen", "(");
var RParen = punct("RParen", ")");
var LBracket = punct("LBracket", "[");
var RBracket = punct("RBracket", "]");
var Comma = punct("Comma", ",");
var Semicolon = punct("Semicolon", ";");
var Colon = punct("Colon", ":");
var Ellipsis = punct("Ellipsis", "...");
var Equals = punct("Equals", "=");
var LessEq = punct("LessEq", "<=", [BinaryOperator]);
var GreaterEq = punct("GreaterEq", ">=", [BinaryOperator]);
var EqEq = punct("EqEq", "==", [BinaryOperator]);
var NotEq = punct("NotEq", "!=", [BinaryOperator]);
var Less = punct("Less", "<", [BinaryOperator]);
var Greater = punct("Greater", ">", [BinaryOperator]);
var Plus = punct("Plus", "+", [BinaryOperator]);
var Minus = punct("Minus", "-", [BinaryOperator, PrefixOperator]);
var Star = punct("Star", "*", [BinaryOperator]);
var Slash = punct("Slash", "/", [BinaryOperator]);
var Caret = punct("Caret", "^", [BinaryOperator]);
var WhiteSpace = createToken({
  name: "WhiteSpace",
  pattern: /[ \t\f\v]+/,
  group: Lexer.SKIPPED
});
var LineBreak = createToken({
  name: "LineBreak",
  pattern: /(?:\r\n?|\n)[ \t\f\v]*/,
  group: Lexer.SKIPPED,
  line_breaks: true
});
var Comment = createToken({ name: "Comment", pattern: /#[^\r\n]*/, group: "comments" });
var allTokens = [
  WhiteSpace,
  LineBreak,
  Comment,
  // keywords before names, with longer_alt back to names
  Loss,
  Def,
  Regularizer,
  Import,
  Let,
  If,
  Then,
  Else,
  And,
  Or,
  Not,
  True,
  False,
  None,
  CallName,
  Identifier,
  // `...` before numbers (`.5`)
  Ellipsis,
  NumberLiteral,
  StringLiteral,
  UnterminatedString,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Semicolon,
  Colon,
  // two-character operators before their one-character prefixes
  LessEq,
  GreaterEq,
  EqEq,
  NotEq,
  Less,
  Greater,
  Equals,
  Plus,
  Minus,
  Star,
  Slash,
  Caret,
  // categories (never matched themselves)
  BinaryOperator,
  PrefixOperator
];
var parserTokens = allTokens.filter(
  (t2) => t2 !== WhiteSpace && t2 !== LineBreak && t2 !== Comment && t2 !== UnterminatedString
);
var LosscLexer = new Lexer(allTokens, {
  positionTracking: "full",
  ensureOptimizations: true,
  // Messages are written by `lex` below; chevrotain's would only cost time on garbage input.
  errorMessageProvider: {
    buildUnexpectedCharactersMessage: () => "",
    buildUnableToPopLexerModeMessage: () => ""
  }
});
var MAX_LEX_ERRORS = 100;
var keywordTokens = [
  Loss,
  Def,
  Regularizer,
  Import,
  Let,
  If,
  Then,
  Else,
  And,
  Or,
  Not,
  True,
  False,
  None
];
function tokenSpan(file, tok, offsetInToken = 0, length) {
  return {
    file,
    line: tok.startLine ?? 1,
    column: (tok.startColumn ?? 1) + offsetInToken,
    offset: tok.startOffset + offsetInToken,
    length: Math.max(1, length ?? tok.image.length - offsetInToken)
  };
}
var HINTS = {
  "!": " (write `not x` for negation; '!=' means not equal)",
  "&": " (write `and`)",
  "|": " (write `or`)",
  ".": " (there is no '.' operator; numbers are written `0.5` or `.5`)",
  "{": " (braces are not used in lossc)",
  "}": " (braces are not used in lossc)",
  "`": ` (strings are quoted with '"' or "'")`,
  "%": " (there is no '%' operator)"
};
function describeBadChars(chars) {
  const shown = [...chars].map((c) => /[\u0000-\u001f\u007f]/.test(c) ? `\\u{${c.charCodeAt(0).toString(16)}}` : c).join("");
  const first = [...chars][0] ?? "";
  let hint = HINTS[first] ?? "";
  if (!hint && /\p{L}/u.test(first)) hint = " (names use only ASCII letters, digits and '_')";
  if (!hint && /[\u00a0\u2000-\u200b\u3000\ufeff]/.test(first)) hint = " (an unusual space character)";
  if (!hint && /[\u201c\u201d\u2018\u2019]/.test(first)) hint = ` (a typographic quote; use '"' or "'")`;
  return [...chars].length === 1 ? `unexpected character '${shown}'${hint}` : `unexpected characters '${shown}'${hint}`;
}
function decodeString(image) {
  const quote = image[0];
  const closed = image.length >= 2 && image[image.length - 1] === quote && !endsInEscape(image);
  const inner = image.slice(1, closed ? -1 : void 0);
  let value = "";
  const badEscapes = [];
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c !== "\\") {
      value += c;
      continue;
    }
    const n = inner[i + 1];
    switch (n) {
      case "\\":
        value += "\\";
        break;
      case '"':
        value += '"';
        break;
      case "'":
        value += "'";
        break;
      case "n":
        value += "\n";
        break;
      case "t":
        value += "	";
        break;
      case void 0:
        break;
      // a lone `\` at the end of an unterminated string
      default:
        badEscapes.push({ index: i + 1, text: "\\" + n });
        value += n;
    }
    i++;
  }
  return { value, badEscapes };
}
function endsInEscape(image) {
  let n = 0;
  for (let i = image.length - 2; i >= 1 && image[i] === "\\"; i--) n++;
  return n % 2 === 1;
}
function lex(text, file) {
  const result = LosscLexer.tokenize(text);
  const charErrors = [];
  const tokenErrors = [];
  let truncated = false;
  const add = (group, detail, span) => {
    if (group.length < MAX_LEX_ERRORS) group.push({ kind: "syntax", detail, span });
    else truncated = true;
  };
  for (const e of result.errors) {
    if (charErrors.length >= MAX_LEX_ERRORS) {
      truncated = true;
      break;
    }
    const chars = text.slice(e.offset, e.offset + e.length);
    add(charErrors, describeBadChars(chars), {
      file,
      line: e.line ?? 1,
      column: e.column ?? 1,
      offset: e.offset,
      length: Math.max(1, e.length)
    });
  }
  for (const tok of result.tokens) {
    const type = tok.tokenType;
    if (type === UnterminatedString) {
      const quote = tok.image[0];
      add(
        tokenErrors,
        `unterminated string: the closing ${quote === '"' ? `'"'` : `"'"`} is missing before the end of the line`,
        tokenSpan(file, tok)
      );
      tok.tokenType = StringLiteral;
      tok.tokenTypeIdx = StringLiteral.tokenTypeIdx;
    }
    if (type === StringLiteral || type === UnterminatedString) {
      if (tok.image.includes("\\")) {
        for (const bad of decodeString(tok.image).badEscapes) {
          add(
            tokenErrors,
            `unknown escape '${bad.text}' in a string (the escapes are \\\\ \\" \\' \\n \\t)`,
            tokenSpan(file, tok, bad.index, bad.text.length)
          );
        }
      }
    } else if (type === NumberLiteral) {
      if (!Number.isFinite(Number(tok.image))) {
        add(tokenErrors, `number literal ${tok.image} is too large (it overflows to infinity)`, tokenSpan(file, tok));
      }
    }
  }
  const comments = result.groups["comments"] ?? [];
  const errors = [...charErrors, ...tokenErrors].sort((a, b) => a.span.offset - b.span.offset);
  if (errors.length > MAX_LEX_ERRORS) {
    errors.length = MAX_LEX_ERRORS;
    truncated = true;
  }
  return { tokens: result.tokens, comments, errors, truncated };
}

// grammar/parser.ts
import { CstParser } from "chevrotain";
var LosscParser = class extends CstParser {
  constructor(options = {}) {
    super(parserTokens, {
      recoveryEnabled: true,
      maxLookahead: 3,
      nodeLocationTracking: "none",
      ...options.errorMessageProvider ? { errorMessageProvider: options.errorMessageProvider } : {}
    });
    this.performSelfAnalysis();
  }
  // ---- top level ------------------------------------------------------------------------------
  /** program = { definition | importStatement } */
  program = this.RULE("program", () => {
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.definition) },
        { ALT: () => this.SUBRULE(this.importStatement) }
      ]);
    });
  });
  /** importStatement = "import" STRING */
  importStatement = this.RULE("importStatement", () => {
    this.CONSUME(Import);
    this.CONSUME(StringLiteral);
  });
  /** definition = ("loss" | "def" | "regularizer") NAME "(" [paramList] [";" [optionList]] ")" "=" body */
  definition = this.RULE("definition", () => {
    this.OR([
      { ALT: () => this.CONSUME(Loss) },
      { ALT: () => this.CONSUME(Def) },
      { ALT: () => this.CONSUME(Regularizer) }
    ]);
    this.OR2([
      { ALT: () => this.CONSUME(Identifier) },
      { ALT: () => this.CONSUME(CallName) }
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
  paramList = this.RULE("paramList", () => {
    this.SUBRULE(this.param);
    this.MANY(() => {
      this.CONSUME(Comma);
      this.SUBRULE2(this.param);
    });
  });
  /** param = IDENT [":" typeAnnotation] */
  param = this.RULE("param", () => {
    this.CONSUME(Identifier);
    this.OPTION(() => {
      this.CONSUME(Colon);
      this.SUBRULE(this.typeAnnotation);
    });
  });
  /** typeAnnotation = IDENT [shape] | shape      (the IDENT is a dtype: float, int or bool) */
  typeAnnotation = this.RULE("typeAnnotation", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(Identifier);
          this.OPTION(() => this.SUBRULE(this.shape));
        }
      },
      { ALT: () => this.SUBRULE2(this.shape) }
    ]);
  });
  /** shape = "[" [dimension { "," dimension }] "]" */
  shape = this.RULE("shape", () => {
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
  dimension = this.RULE("dimension", () => {
    this.OR([
      { ALT: () => this.CONSUME(NumberLiteral) },
      { ALT: () => this.CONSUME(Identifier) },
      { ALT: () => this.CONSUME(Ellipsis) }
    ]);
  });
  /** optionList = optionDecl { "," optionDecl } */
  optionList = this.RULE("optionList", () => {
    this.SUBRULE(this.optionDecl);
    this.MANY(() => {
      this.CONSUME(Comma);
      this.SUBRULE2(this.optionDecl);
    });
  });
  /** optionDecl = IDENT "=" expression */
  optionDecl = this.RULE("optionDecl", () => {
    this.CONSUME(Identifier);
    this.CONSUME(Equals);
    this.SUBRULE(this.expression);
  });
  /** body = { letBinding } expression */
  body = this.RULE("body", () => {
    this.MANY(() => this.SUBRULE(this.letBinding));
    this.SUBRULE(this.expression);
  });
  /** letBinding = "let" (IDENT | destructuring) "=" expression */
  letBinding = this.RULE("letBinding", () => {
    this.CONSUME(Let);
    this.OR([
      { ALT: () => this.CONSUME(Identifier) },
      { ALT: () => this.SUBRULE(this.destructuring) }
    ]);
    this.CONSUME(Equals);
    this.SUBRULE(this.expression);
  });
  /** destructuring = "[" IDENT { "," IDENT } "]" */
  destructuring = this.RULE("destructuring", () => {
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
  expression = this.RULE("expression", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.ifExpression) },
      {
        ALT: () => {
          this.SUBRULE(this.operand);
          this.MANY(() => {
            this.CONSUME(BinaryOperator);
            this.SUBRULE2(this.operand);
          });
        }
      }
    ]);
  });
  /**
   * ifExpression = "if" expression "then" expression
   *                { "else" "if" expression "then" expression } "else" expression
   * `else if` chains are a loop; the final `else` branch extends as far as possible.
   */
  ifExpression = this.RULE("ifExpression", () => {
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
  operand = this.RULE("operand", () => {
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
        }
      },
      { ALT: () => this.SUBRULE(this.list) }
    ]);
  });
  /** call = CALL_NAME "(" [argument { "," argument } [","]] ")"    (no space before "(") */
  call = this.RULE("call", () => {
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
  argument = this.RULE("argument", () => {
    this.OPTION(() => {
      this.CONSUME(Identifier);
      this.CONSUME(Equals);
    });
    this.SUBRULE(this.expression);
  });
  /** list = "[" [expression { "," expression } [","]] "]" */
  list = this.RULE("list", () => {
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
};

// grammar/visitor.ts
function tokens(node, name) {
  return node.children[name] ?? [];
}
function token(node, name, i = 0) {
  return tokens(node, name)[i];
}
function nodes(node, name) {
  return node.children[name] ?? [];
}
function child(node, name, i = 0) {
  return nodes(node, name)[i];
}
function firstToken(node, names) {
  for (const n of names) {
    const t2 = token(node, n);
    if (t2) return t2;
  }
  return void 0;
}
var IncompleteTree = class extends Error {
};
function need(x, what) {
  if (x === void 0) throw new IncompleteTree(`incomplete syntax tree: missing ${what}`);
  return x;
}
var BINARY_PRECEDENCE = {
  or: 1,
  and: 2,
  // `not` (prefix) is 3
  "<": 4,
  "<=": 4,
  ">": 4,
  ">=": 4,
  "==": 4,
  "!=": 4,
  "+": 5,
  "-": 5,
  "*": 6,
  "/": 6,
  // unary `-` (prefix) is 7
  "^": 8
};
var NOT_PRECEDENCE = 3;
var NEG_PRECEDENCE = 7;
var COMPARISON_PRECEDENCE = 4;
var AstBuilder = class {
  constructor(ctx) {
    this.ctx = ctx;
    this.file = ctx.file;
    this.errors = ctx.errors;
    for (const c of ctx.comments) {
      const lineStart = c.startOffset - ((c.startColumn ?? 1) - 1);
      if (/^[ \t]*$/.test(ctx.text.slice(lineStart, c.startOffset))) {
        this.commentLines.set(c.startLine ?? 0, c.image);
      }
    }
  }
  ctx;
  file;
  errors;
  /** Line number → text of a comment that is alone on its line. */
  commentLines = /* @__PURE__ */ new Map();
  span(tok) {
    return tokenSpan(this.file, tok);
  }
  /** From the start of `a` to the end of `b`, if both are on one line; else just `a`. */
  spanBetween(a, b) {
    const s = this.span(a);
    if (b && b.startLine === a.startLine && b.endOffset !== void 0 && b.endOffset >= a.startOffset) {
      s.length = b.endOffset - a.startOffset + 1;
    }
    return s;
  }
  error(message, span) {
    this.errors.push({ kind: "syntax", detail: message, span });
  }
  where(span) {
    return `${span.line}:${span.column}`;
  }
  // ---- top level ----------------------------------------------------------------------------
  /** `program` → the imports and definitions it holds, in source order. */
  program(node) {
    return {
      imports: nodes(node, "importStatement").map((n) => this.importStatement(n)),
      definitions: nodes(node, "definition").map((n) => this.definition(n))
    };
  }
  importStatement(node) {
    const kw = need(token(node, "Import"), "`import`");
    const str = need(token(node, "StringLiteral"), "path");
    return { path: decodeString(str.image).value, span: this.spanBetween(kw, str) };
  }
  definition(node) {
    const kw = need(firstToken(node, ["Loss", "Def", "Regularizer"]), "definition keyword");
    const nameTok = need(firstToken(node, ["Identifier", "CallName"]), "definition name");
    const kind = kw.image;
    const params = nodes(child(node, "paramList") ?? emptyNode, "param").map((p) => this.param(p));
    const options = nodes(child(node, "optionList") ?? emptyNode, "optionDecl").map(
      (o) => this.optionDecl(o)
    );
    const seen = /* @__PURE__ */ new Map();
    for (const [what, list] of [["parameter", params], ["option", options]]) {
      for (const item of list) {
        const prev = seen.get(item.name);
        if (prev) {
          this.error(
            `duplicate name \`${item.name}\`: already declared as ${prev.what === "parameter" ? "a parameter" : "an option"} at ${this.where(prev.span)}`,
            item.span
          );
        } else {
          seen.set(item.name, { what, span: item.span });
        }
      }
    }
    return {
      kind,
      name: nameTok.image,
      params,
      options,
      body: this.body(need(child(node, "body"), "body")),
      doc: this.docAbove(kw),
      span: this.spanBetween(kw, nameTok),
      nameSpan: this.span(nameTok)
    };
  }
  /** The block of comment-only lines ending directly above `kw`'s line, `#` markers stripped. */
  docAbove(kw) {
    const line = kw.startLine ?? 0;
    const lineStart = kw.startOffset - ((kw.startColumn ?? 1) - 1);
    if (!/^[ \t]*$/.test(this.ctx.text.slice(lineStart, kw.startOffset))) return "";
    const lines = [];
    for (let l2 = line - 1; this.commentLines.has(l2); l2--) {
      lines.push(this.commentLines.get(l2).replace(/^# ?/, "").trimEnd());
    }
    return lines.reverse().join("\n");
  }
  param(node) {
    const nameTok = need(token(node, "Identifier"), "parameter name");
    const typeNode = child(node, "typeAnnotation");
    const p = { name: nameTok.image, span: this.span(nameTok) };
    if (typeNode) p.type = this.typeAnnotation(typeNode);
    return p;
  }
  typeAnnotation(node) {
    const dtypeTok = token(node, "Identifier");
    const shapeNode = child(node, "shape");
    const first = dtypeTok ?? need(shapeNode && token(shapeNode, "LBracket"), "type");
    const last = shapeNode ? token(shapeNode, "RBracket") : dtypeTok;
    const t2 = { span: this.spanBetween(first, last) };
    if (dtypeTok) {
      const d = dtypeTok.image;
      if (d === "float" || d === "int" || d === "bool") {
        t2.dtype = d;
      } else {
        const hint = didYouMean(d, ["float", "int", "bool"]);
        this.error(
          `unknown dtype \`${d}\`: a type is \`float\`, \`int\` or \`bool\`, and/or a shape in brackets such as \`[N, C]\`${hint || (shapeNode ? "" : ` (for a shape, write \`[${d}]\`)`)}`,
          this.span(dtypeTok)
        );
      }
    }
    if (shapeNode) t2.shape = this.shape(shapeNode);
    return t2;
  }
  shape(node) {
    const dims = [];
    let ellipsis;
    for (const d of nodes(node, "dimension")) {
      const num = token(d, "NumberLiteral");
      const sym = token(d, "Identifier");
      const ell = token(d, "Ellipsis");
      if (num) {
        if (!/^\d+$/.test(num.image) || !Number.isSafeInteger(Number(num.image))) {
          this.error(
            `a dimension must be a whole number, a name or \`...\`, not \`${num.image}\``,
            this.span(num)
          );
        }
        dims.push({ kind: "fixed", size: Number(num.image) });
      } else if (sym) {
        dims.push({ kind: "symbol", name: sym.image });
      } else if (ell) {
        if (ellipsis) {
          this.error(
            `a shape may contain \`...\` only once (the first is at ${ellipsis.startLine}:${ellipsis.startColumn})`,
            this.span(ell)
          );
        }
        ellipsis ??= ell;
        dims.push({ kind: "ellipsis" });
      }
    }
    return dims;
  }
  optionDecl(node) {
    const nameTok = need(token(node, "Identifier"), "option name");
    return {
      name: nameTok.image,
      default: this.expression(need(child(node, "expression"), "option default")),
      span: this.span(nameTok)
    };
  }
  body(node) {
    return {
      lets: nodes(node, "letBinding").map((l2) => this.letBinding(l2)),
      result: this.expression(need(child(node, "expression"), "result expression"))
    };
  }
  letBinding(node) {
    const letTok = need(token(node, "Let"), "`let`");
    const value = this.expression(need(child(node, "expression"), "let value"));
    const single = token(node, "Identifier");
    if (single) {
      return { names: [single.image], destructure: false, value, span: this.spanBetween(letTok, single) };
    }
    const pattern = need(child(node, "destructuring"), "let names");
    const nameToks = tokens(pattern, "Identifier");
    const seen = /* @__PURE__ */ new Map();
    for (const t2 of nameToks) {
      const prev = seen.get(t2.image);
      if (prev) {
        this.error(
          `duplicate name \`${t2.image}\` in \`let [...]\` (first at ${prev.startLine}:${prev.startColumn})`,
          this.span(t2)
        );
      } else {
        seen.set(t2.image, t2);
      }
    }
    return {
      names: nameToks.map((t2) => t2.image),
      destructure: true,
      value,
      span: this.spanBetween(letTok, token(pattern, "RBracket"))
    };
  }
  // ---- expressions --------------------------------------------------------------------------
  expression(node) {
    const ifNode = child(node, "ifExpression");
    if (ifNode) return this.ifExpression(ifNode);
    return this.operatorChain(nodes(node, "operand"), tokens(node, "BinaryOperator"));
  }
  /** `if`s of an `else if` chain, built from the last `else` backwards (a loop). */
  ifExpression(node) {
    const ifs = tokens(node, "If");
    const exprs = nodes(node, "expression");
    need(exprs.length === 2 * ifs.length + 1 ? true : void 0, "if branches");
    let result = this.expression(exprs[exprs.length - 1]);
    for (let j = ifs.length - 1; j >= 0; j--) {
      const e = {
        kind: "if",
        cond: this.expression(exprs[2 * j]),
        then: this.expression(exprs[2 * j + 1]),
        else: result,
        span: this.span(ifs[j])
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
  operatorChain(operands, ops) {
    const out = [];
    const stack = [];
    const reduce2 = () => {
      const top = stack.pop();
      if (top.prefix) {
        const operand = out.pop();
        out.push({ kind: "unary", op: top.op, operand, span: this.span(top.tok) });
      } else {
        const right = out.pop();
        const left = out.pop();
        out.push({ kind: "binary", op: top.op, left, right, span: this.span(top.tok) });
      }
    };
    need(operands.length === ops.length + 1 ? true : void 0, "operands");
    for (let i = 0; i < operands.length; i++) {
      const operand = operands[i];
      const prefixes = tokens(operand, "PrefixOperator");
      const atomNode = operand;
      const num = token(atomNode, "NumberLiteral");
      const minus = prefixes[prefixes.length - 1];
      if (num && minus && minus.image === "-" && minus.endOffset + 1 === num.startOffset && ops[i]?.image !== "^") {
        this.pushPrefixes(prefixes.slice(0, -1), stack);
        const text = "-" + num.image;
        out.push({ kind: "number", value: -Number(num.image), text, span: this.spanBetween(minus, num) });
      } else {
        this.pushPrefixes(prefixes, stack);
        out.push(this.atom(atomNode));
      }
      const opTok = ops[i];
      if (!opTok) break;
      const op = opTok.image;
      const prec = BINARY_PRECEDENCE[op];
      const rightAssoc = op === "^";
      for (; ; ) {
        const top = stack[stack.length - 1];
        if (!top || top.prec < prec || top.prec === prec && rightAssoc) break;
        if (!top.prefix && prec === COMPARISON_PRECEDENCE && top.prec === COMPARISON_PRECEDENCE) {
          this.error(
            `comparisons cannot be chained: '${top.op}' at ${top.tok.startLine}:${top.tok.startColumn} and '${op}' here; write \`a ${top.op} b and b ${op} c\`, or use parentheses`,
            this.span(opTok)
          );
        }
        reduce2();
      }
      stack.push({ prefix: false, op, tok: opTok, prec });
    }
    while (stack.length > 0) reduce2();
    return out[0];
  }
  pushPrefixes(prefixes, stack) {
    for (const p of prefixes) {
      const op = p.image === "not" ? "not" : "-";
      const top = stack[stack.length - 1];
      if (op === "not" && top && top.prec > NOT_PRECEDENCE) {
        this.error(
          `\`not\` cannot directly follow '${top.op}' (it binds more loosely); put it in parentheses: \`${top.op} (not ...)\``,
          this.span(p)
        );
      }
      stack.push({ prefix: true, op, tok: p, prec: op === "not" ? NOT_PRECEDENCE : NEG_PRECEDENCE });
    }
  }
  /** The atom of an `operand` node (its prefix operators are handled by operatorChain). */
  atom(node) {
    const c = node.children;
    if (c["NumberLiteral"]) {
      const t2 = token(node, "NumberLiteral");
      return { kind: "number", value: Number(t2.image), text: t2.image, span: this.span(t2) };
    }
    if (c["StringLiteral"]) {
      const t2 = token(node, "StringLiteral");
      return { kind: "string", value: decodeString(t2.image).value, span: this.span(t2) };
    }
    if (c["True"]) return { kind: "bool", value: true, span: this.span(token(node, "True")) };
    if (c["False"]) return { kind: "bool", value: false, span: this.span(token(node, "False")) };
    if (c["None"]) return { kind: "none", span: this.span(token(node, "None")) };
    if (c["Identifier"]) {
      const t2 = token(node, "Identifier");
      return { kind: "name", name: t2.image, span: this.span(t2) };
    }
    const callNode = child(node, "call");
    if (callNode) return this.call(callNode);
    const listNode = child(node, "list");
    if (listNode) return this.list(listNode);
    return this.expression(need(child(node, "expression"), "expression"));
  }
  call(node) {
    const nameTok = need(token(node, "CallName"), "callee");
    const args = [];
    const kwargs = [];
    for (const a of nodes(node, "argument")) {
      const kwTok = token(a, "Identifier");
      const valueNode = need(child(a, "expression"), "argument");
      const value = this.expression(valueNode);
      if (kwTok) {
        const dup = kwargs.find((k) => k.name === kwTok.image);
        if (dup) {
          this.error(
            `keyword argument \`${kwTok.image}\` is given twice in the call of \`${nameTok.image}\` (first at ${this.where(dup.span)})`,
            this.span(kwTok)
          );
        }
        kwargs.push({ name: kwTok.image, value, span: this.span(kwTok) });
      } else {
        if (kwargs.length > 0) {
          this.error(
            `positional argument after keyword argument \`${kwargs[kwargs.length - 1].name}\` in the call of \`${nameTok.image}\`; positional arguments come first`,
            this.span(firstTokenOfExpression(valueNode) ?? nameTok)
          );
        }
        args.push(value);
      }
    }
    return { kind: "call", callee: nameTok.image, args, kwargs, span: this.span(nameTok) };
  }
  list(node) {
    const open = need(token(node, "LBracket"), "'['");
    return {
      kind: "list",
      items: nodes(node, "expression").map((e) => this.expression(e)),
      span: this.spanBetween(open, token(node, "RBracket"))
    };
  }
};
function firstTokenOfExpression(expr) {
  let node = expr;
  while (node) {
    const ifNode = child(node, "ifExpression");
    if (ifNode) return token(ifNode, "If");
    const operand = child(node, "operand");
    if (!operand) return void 0;
    const prefix = token(operand, "PrefixOperator");
    if (prefix) return prefix;
    const atom2 = operand;
    const direct = firstToken(atom2, ["NumberLiteral", "StringLiteral", "True", "False", "None", "Identifier", "LParen"]);
    if (direct) return direct;
    const callNode = child(atom2, "call");
    if (callNode) return token(callNode, "CallName");
    const listNode = child(atom2, "list");
    if (listNode) return token(listNode, "LBracket");
    node = void 0;
  }
  return void 0;
}
var emptyNode = { name: "", children: {} };

// grammar/index.ts
var MAX_SOURCE_BYTES = 1024 * 1024;
var MAX_NESTING = 100;
var MAX_ERRORS = 50;
function parseProgram(text, file = "<input>") {
  return guarded(text, file, () => {
    const session = new Session(text, file, "program");
    return session.parseProgram();
  });
}
function guarded(text, file, run) {
  if (typeof text !== "string") {
    throw new LosscErrors([new LosscError("usage", `source must be a string, not ${typeof text}`)]);
  }
  checkSize(text, file);
  registerSource(file, text);
  try {
    return run();
  } catch (e) {
    if (e instanceof LosscError) throw e;
    const at2 = { file, line: 1, column: 1, offset: 0, length: 1 };
    if (e instanceof RangeError) {
      throw new LosscErrors([
        new LosscError("limit", "the source is nested too deeply to parse (the stack ran out)", at2)
      ]);
    }
    const why = e instanceof Error ? e.message : String(e);
    throw new LosscErrors([new LosscError("syntax", `internal error in the lossc parser: ${why}`, at2)]);
  }
}
function checkSize(text, file) {
  const bytes = text.length > MAX_SOURCE_BYTES ? text.length : Buffer.byteLength(text, "utf8");
  if (bytes <= MAX_SOURCE_BYTES) return;
  const shown = text.length > MAX_SOURCE_BYTES ? Buffer.byteLength(text, "utf8") : bytes;
  const nl = text.indexOf("\n");
  registerSource(file, text.slice(0, Math.min(nl < 0 ? 200 : nl, 200)));
  const mb = (shown / (1024 * 1024)).toFixed(1);
  throw new LosscErrors([
    new LosscError("limit", `source is ${mb} MB; lossc reads at most ${MAX_SOURCE_BYTES / (1024 * 1024)} MB`, {
      file,
      line: 1,
      column: 1,
      offset: 0,
      length: 1
    })
  ]);
}
function firstTokens(paths) {
  const names = /* @__PURE__ */ new Set();
  for (const p of paths) if (p[0]) names.add(p[0].name);
  return [...names];
}
var messageProvider = {
  buildMismatchTokenMessage: ({ expected, ruleName }) => JSON.stringify({ kind: "mismatch", expected: [expected.name], rule: ruleName }),
  buildNotAllInputParsedMessage: ({ ruleName }) => JSON.stringify({ kind: "notAll", expected: [], rule: ruleName }),
  buildNoViableAltMessage: ({ expectedPathsPerAlt, ruleName }) => JSON.stringify({
    kind: "noViable",
    expected: firstTokens(expectedPathsPerAlt.flat()),
    rule: ruleName
  }),
  buildEarlyExitMessage: ({ expectedIterationPaths, ruleName }) => JSON.stringify({
    kind: "earlyExit",
    expected: firstTokens(expectedIterationPaths),
    rule: ruleName
  })
};
var parserInstance;
function getParser() {
  parserInstance ??= new LosscParser({ errorMessageProvider: messageProvider });
  return parserInstance;
}
var topLevelKeywords = /* @__PURE__ */ new Set([Loss, Def, Regularizer, Import]);
var keywordSet = new Set(keywordTokens);
var operandEnders = /* @__PURE__ */ new Set([
  Identifier,
  NumberLiteral,
  StringLiteral,
  True,
  False,
  None,
  RParen,
  RBracket
]);
var operandStarters = /* @__PURE__ */ new Set([
  Identifier,
  CallName,
  NumberLiteral,
  StringLiteral,
  True,
  False,
  None,
  LParen,
  LBracket
]);
var is = (t2, type) => t2 !== void 0 && t2.tokenType === type;
function expectedLabel(name) {
  switch (name) {
    case "Identifier":
      return "identifier";
    case "CallName":
      return "function call";
    case "NumberLiteral":
      return "number";
    case "StringLiteral":
      return "string";
    case "BinaryOperator":
      return "operator";
    case "PrefixOperator":
      return "'-' or `not`";
    case "EOF":
      return "the end of the input";
  }
  const type = allTokens.find((t2) => t2.name === name);
  if (type && keywordSet.has(type)) return "`" + type.PATTERN.source + "`";
  return type?.LABEL ?? name;
}
function joinOr(items) {
  if (items.length <= 1) return items[0] ?? "something else";
  return items.slice(0, -1).join(", ") + " or " + items[items.length - 1];
}
function truncate(s, n = 30) {
  return s.length > n ? s.slice(0, n) + "\u2026" : s;
}
var Session = class {
  constructor(text, file, mode) {
    this.text = text;
    this.file = file;
    this.mode = mode;
    const lexed = lex(text, file);
    this.tokens = lexed.tokens;
    this.comments = lexed.comments;
    this.lexErrors = lexed.errors;
    this.lexTruncated = lexed.truncated;
  }
  text;
  file;
  mode;
  tokens;
  comments;
  lexErrors;
  lexTruncated;
  errors = [];
  /** Number of recognition (parser) errors so far, to stop early on hopeless input. */
  parseErrorCount = 0;
  parseProgram() {
    const program = { file: this.file, imports: [], definitions: [] };
    if (!this.checkNesting()) this.fail();
    const parser = getParser();
    for (const [start, end] of this.chunks()) {
      if (this.parseErrorCount >= MAX_ERRORS) break;
      parser.input = this.tokens.slice(start, end);
      const cst = parser.program();
      if (parser.errors.length > 0) {
        this.addParseErrors(parser.errors, start, end);
        continue;
      }
      const part = this.visit((b) => b.program(cst));
      if (part) {
        program.imports.push(...part.imports);
        program.definitions.push(...part.definitions);
      }
    }
    this.fail();
    return program;
  }
  parseExpression() {
    if (!this.checkNesting()) this.fail();
    const parser = getParser();
    parser.input = this.tokens;
    const cst = parser.expression();
    let expr;
    if (parser.errors.length > 0) this.addParseErrors(parser.errors, 0, this.tokens.length);
    else expr = this.visit((b) => b.expression(cst));
    this.fail();
    return expr;
  }
  /** Runs the visitor; any tree-level errors go to this.errors. */
  visit(f) {
    const errors = [];
    const builder = new AstBuilder({ file: this.file, text: this.text, comments: this.comments, errors });
    try {
      const r = f(builder);
      this.errors.push(...errors);
      return r;
    } catch (e) {
      if (e instanceof IncompleteTree) {
        if (this.errors.length + this.lexErrors.length === 0) throw e;
        return void 0;
      }
      throw e;
    }
  }
  /** Throws every error found so far, if any, as one LosscErrors. */
  fail() {
    const all = [...this.lexErrors, ...this.errors];
    if (all.length === 0) return;
    const sorted = all.map((e, i) => ({ e, i })).sort((a, b) => a.e.span.offset - b.e.span.offset || a.i - b.i).map((x) => x.e);
    const kept = [];
    let lastOffset = -1;
    for (const e of sorted) {
      if (e.span.offset === lastOffset) continue;
      lastOffset = e.span.offset;
      kept.push(e);
    }
    const shown = kept.slice(0, MAX_ERRORS).map((e) => new LosscError(e.kind, e.detail, e.span));
    if (kept.length > MAX_ERRORS || this.parseErrorCount >= MAX_ERRORS || this.lexTruncated) {
      const next = kept[MAX_ERRORS] ?? kept[kept.length - 1];
      shown.push(
        new LosscError("syntax", `too many errors; stopping after the first ${MAX_ERRORS}`, next.span)
      );
    }
    throw new LosscErrors(shown);
  }
  // ---- nesting pre-pass -----------------------------------------------------------------------
  /**
   * Refuses nesting deeper than MAX_NESTING before the recursive parser sees it. Counts open
   * parentheses/brackets (calls included), `if`s whose `else` has not come yet, and runs of
   * prefix operators. Linear and allocation-light; approximate on broken input, which is fine:
   * it only has to bound the parser's recursion.
   */
  checkNesting() {
    const stack = [];
    let prefixRun = 0;
    const toks = this.tokens;
    for (let i = 0; i < toks.length; i++) {
      const t2 = toks[i];
      const type = t2.tokenType;
      let grew = false;
      if (type === Minus) {
        const prev = toks[i - 1];
        if (!prev || !operandEnders.has(prev.tokenType)) {
          prefixRun++;
          grew = true;
        }
      } else if (type === Not) {
        prefixRun++;
        grew = true;
      } else {
        prefixRun = 0;
        if (type === LParen) {
          stack.push(0);
          grew = true;
        } else if (type === LBracket) {
          stack.push(1);
          grew = true;
        } else if (type === RParen || type === RBracket) {
          const want = type === RParen ? 0 : 1;
          const at2 = stack.lastIndexOf(want);
          if (at2 >= 0) stack.length = at2;
        } else if (type === If) {
          stack.push(2);
          grew = true;
        } else if (type === Then) {
          if (stack[stack.length - 1] === 2) stack[stack.length - 1] = 3;
        } else if (type === Else) {
          if (stack[stack.length - 1] === 3) stack.pop();
        } else if (topLevelKeywords.has(type)) {
          stack.length = 0;
        }
      }
      if (grew && stack.length + prefixRun > MAX_NESTING) {
        this.errors.push({
          kind: "limit",
          detail: `nested too deeply: more than ${MAX_NESTING} levels of parentheses, brackets, calls, \`if\`s and prefix operators (lossc's limit is ${MAX_NESTING})`,
          span: tokenSpan(this.file, t2)
        });
        return false;
      }
    }
    return true;
  }
  // ---- chunks ---------------------------------------------------------------------------------
  /**
   * Splits the token vector before every `loss`/`def`/`regularizer`/`import` that starts a line.
   * Each part is parsed on its own, so an error in one definition cannot swallow the next one.
   */
  *chunks() {
    const toks = this.tokens;
    let start = 0;
    for (let i = 1; i < toks.length; i++) {
      const t2 = toks[i];
      if (topLevelKeywords.has(t2.tokenType) && (toks[i - 1].endLine ?? 0) < (t2.startLine ?? 0)) {
        yield [start, i];
        start = i;
      }
    }
    if (start < toks.length) yield [start, toks.length];
  }
  // ---- parse errors ---------------------------------------------------------------------------
  pushParse(e) {
    this.errors.push(e);
    this.parseErrorCount++;
  }
  addParseErrors(exceptions, start, end) {
    let lastIdx = -1;
    for (const ex of exceptions) {
      if (this.parseErrorCount >= MAX_ERRORS) return;
      const idx = this.indexOf(ex.token, start, end);
      if (this.followsLexError(idx)) continue;
      let payload;
      try {
        payload = JSON.parse(ex.message);
      } catch {
        payload = { kind: "noViable", expected: [], rule: "" };
      }
      if (payload.kind === "mismatch" && payload.expected[0] === "EOF") payload.kind = "notAll";
      if (lastIdx >= 0) {
        if (payload.kind === "notAll" || idx >= end || idx <= lastIdx + 1) continue;
      }
      lastIdx = idx;
      const detail = this.explain(ex, payload, idx, start);
      this.pushParse({ kind: "syntax", detail, span: this.spanAt(idx) });
    }
  }
  /** Index of a token in the whole vector; EOF of a chunk maps to the chunk's end. */
  indexOf(tok, start, end) {
    if (!tok || tok.tokenType === EOF || !Number.isFinite(tok.startOffset)) return end;
    let lo = start;
    let hi = end - 1;
    while (lo <= hi) {
      const mid = lo + hi >> 1;
      const o = this.tokens[mid].startOffset;
      if (o === tok.startOffset) return mid;
      if (o < tok.startOffset) lo = mid + 1;
      else hi = mid - 1;
    }
    return end;
  }
  /** Whether a lexical error lies between token idx-1 and token idx. */
  followsLexError(idx) {
    const from = idx > 0 ? this.tokens[idx - 1].endOffset + 1 : 0;
    const to = idx < this.tokens.length ? this.tokens[idx].startOffset : this.text.length;
    return this.lexErrors.some((e) => e.span.offset >= from && e.span.offset < to && !e.detail.startsWith("unterminated"));
  }
  spanAt(idx) {
    if (idx < this.tokens.length) return tokenSpan(this.file, this.tokens[idx]);
    const last = this.tokens[this.tokens.length - 1];
    if (!last) return { file: this.file, line: 1, column: 1, offset: 0, length: 1 };
    return {
      file: this.file,
      line: last.endLine ?? 1,
      column: (last.endColumn ?? 0) + 1,
      offset: (last.endOffset ?? 0) + 1,
      length: 1
    };
  }
  describeFound(idx) {
    const t2 = this.tokens[idx];
    if (!t2) return "the end of the input";
    const type = t2.tokenType;
    if (keywordSet.has(type)) return "`" + t2.image + "`";
    if (type === Identifier || type === CallName) return `name \`${t2.image}\``;
    if (type === NumberLiteral) return `number \`${truncate(t2.image)}\``;
    if (type === StringLiteral) return `string ${truncate(t2.image)}`;
    return `'${t2.image}'`;
  }
  where(t2) {
    return `${t2.startLine}:${t2.startColumn}`;
  }
  /** The innermost unclosed `(` or `[` before idx (within the chunk), or -1. */
  findOpener(idx, start) {
    let depth = 0;
    for (let j = idx - 1; j >= start; j--) {
      const type = this.tokens[j].tokenType;
      if (type === RParen || type === RBracket) depth++;
      else if (type === LParen || type === LBracket) {
        if (depth === 0) return j;
        depth--;
      }
    }
    return -1;
  }
  /** The innermost `if` before idx still waiting for `kw` (`then` or `else`), or -1. */
  findIf(idx, start, kw) {
    let depth = 0;
    let pending = 0;
    for (let j = idx - 1; j >= start; j--) {
      const type = this.tokens[j].tokenType;
      if (type === RParen || type === RBracket) depth++;
      else if (type === LParen || type === LBracket) {
        if (depth === 0) return -1;
        depth--;
      } else if (depth === 0) {
        if (type === kw) pending++;
        else if (type === If) {
          if (pending === 0) return j;
          pending--;
        }
      }
    }
    return -1;
  }
  /** The name of the definition that idx is in, if any. */
  definitionName(idx, start) {
    for (let j = Math.min(idx, this.tokens.length) - 1; j >= start; j--) {
      const t2 = this.tokens[j];
      if (t2.tokenType === Loss || t2.tokenType === Def || t2.tokenType === Regularizer) {
        const n = this.tokens[j + 1];
        return n && (n.tokenType === Identifier || n.tokenType === CallName) ? n.image : void 0;
      }
    }
    return void 0;
  }
  keywordNote(idx) {
    const t2 = this.tokens[idx];
    return t2 && keywordSet.has(t2.tokenType) ? ` (\`${t2.image}\` is a keyword and cannot be used as a name)` : "";
  }
  /** A sentence for one parser error. */
  explain(ex, p, idx, start) {
    const found = this.describeFound(idx);
    const stack = ex.context?.ruleStack ?? [];
    const rule = p.rule || stack[stack.length - 1] || "";
    const parent = stack[stack.length - 2];
    const prev = idx - 1 >= start ? this.tokens[idx - 1] : void 0;
    let msg;
    if (p.kind === "notAll") {
      msg = this.mode === "expression" ? `unexpected ${found} after the end of the expression` : `expected a definition (\`loss\`, \`def\`, \`regularizer\`) or \`import\`, found ${found}`;
    } else if (p.kind === "mismatch") {
      msg = this.mismatch(p.expected[0] ?? "", rule, idx, start, found, prev);
    } else {
      msg = this.noViable(p, rule, parent, idx, start, found, prev);
    }
    return msg + this.hints(idx, start, p.kind, p.expected, rule, parent);
  }
  mismatch(expected, rule, idx, start, found, prev) {
    const name = this.definitionName(idx, start);
    switch (expected) {
      case "RParen":
      case "RBracket": {
        const close = expected === "RParen" ? "')'" : "']'";
        const j = this.findOpener(idx, start);
        if (j < 0) return `expected ${close}, found ${found}`;
        const opener = this.tokens[j];
        let what;
        const before = this.tokens[j - 1];
        if (rule === "call" && before && before.tokenType === CallName) what = `the call of \`${before.image}\``;
        else if (rule === "definition") what = name ? `the parameter list of \`${name}\`` : "the parameter list";
        else if (rule === "list") what = "the list";
        else if (rule === "shape") what = "the shape";
        else if (rule === "destructuring") what = "the names of `let [...]`";
        else what = `the ${opener.tokenType === LParen ? "'('" : "'['"}`;
        let extra = "";
        if (rule === "definition" && is(this.tokens[idx], Equals)) {
          extra = " (options with defaults come after a ';': `f(y_true, y_pred; gamma = 2.0)`)";
        }
        return `expected ${close} to close ${what} opened at ${this.where(opener)}, found ${found}${extra}`;
      }
      case "Then": {
        const j = this.findIf(idx, start, Then);
        const at2 = j >= 0 ? ` at ${this.where(this.tokens[j])}` : "";
        return `expected \`then\` after the condition of the \`if\`${at2}, found ${found}`;
      }
      case "Else": {
        const j = this.findIf(idx, start, Else);
        const at2 = j >= 0 ? ` at ${this.where(this.tokens[j])}` : "";
        return `expected \`else\` to complete the \`if\`${at2} (every \`if\` needs an \`else\` branch), found ${found}`;
      }
      case "Equals":
        if (rule === "definition") return `expected '=' after the header of \`${name ?? "?"}\`, found ${found}`;
        if (rule === "letBinding") {
          const hint = is(this.tokens[idx], Comma) ? " (to unpack several values, write `let [a, b] = ...`)" : "";
          return `expected '=' after \`let ${prev?.image ?? ""}\`, found ${found}${hint}`;
        }
        if (rule === "optionDecl") {
          return `expected '=' after option \`${prev?.image ?? ""}\` (an option after ';' needs a default, e.g. \`${prev?.image ?? "gamma"} = 2.0\`), found ${found}`;
        }
        return `expected '=', found ${found}`;
      case "Identifier": {
        const what = rule === "param" ? "a parameter name" : rule === "optionDecl" ? "an option name" : rule === "destructuring" ? "a name in `let [...]`" : "a name";
        return `expected ${what}, found ${found}${this.keywordNote(idx)}`;
      }
      case "LParen":
        if (rule === "definition") {
          return `expected '(' and the parameters of \`${name ?? "?"}\`, e.g. \`loss ${name ?? "f"}(y_true, y_pred) = ...\`, found ${found}`;
        }
        return `expected '(', found ${found}`;
      case "StringLiteral":
        if (rule === "importStatement") return `expected a quoted file name after \`import\`, e.g. \`import "losses.loss"\`, found ${found}`;
        return `expected a string, found ${found}`;
      default:
        return `expected ${expectedLabel(expected)}, found ${found}`;
    }
  }
  noViable(p, rule, parent, idx, start, found, prev) {
    const name = this.definitionName(idx, start);
    const wantsExpression = p.expected.includes("NumberLiteral") && rule !== "dimension";
    if (wantsExpression) {
      if (rule === "operand" && prev && (prev.tokenType.CATEGORIES ?? []).some((c) => c === BinaryOperator || c === PrefixOperator)) {
        return `expected an expression after '${prev.image}', found ${found}`;
      }
      switch (parent) {
        case "body": {
          const hasLets = this.tokens.slice(start, idx).some((t2) => t2.tokenType === Let);
          return `expected the result expression of \`${name ?? "?"}\`${hasLets ? " after its `let`s" : ""}, found ${found}` + this.minusContinuationHint(idx, start);
        }
        case "letBinding":
          return `expected a value after \`let ... =\`, found ${found}`;
        case "optionDecl":
          return `expected a default value for option \`${this.tokens[idx - 2]?.image ?? "?"}\`, found ${found}`;
        case "argument":
          if (is(prev, Equals)) return `expected a value for keyword argument \`${this.tokens[idx - 2]?.image ?? "?"}\`, found ${found}`;
          return `expected an argument, found ${found}`;
        case "ifExpression":
          if (is(prev, If)) return `expected a condition after \`if\`, found ${found}`;
          if (is(prev, Then)) return `expected an expression after \`then\`, found ${found}`;
          if (is(prev, Else)) return `expected an expression after \`else\`, found ${found}`;
          break;
        case "operand":
          if (is(prev, LParen)) return `expected an expression after '(', found ${found}`;
          break;
      }
      return `expected an expression, found ${found}`;
    }
    switch (rule) {
      case "definition": {
        const kw = prev?.image ?? "loss";
        return `expected a name after \`${kw}\`, found ${found}${this.keywordNote(idx)}`;
      }
      case "letBinding":
        return `expected a name or \`[names]\` after \`let\`, found ${found}${this.keywordNote(idx)}`;
      case "typeAnnotation":
        return `expected a type after ':' (\`float\`, \`int\` or \`bool\`, and/or a shape such as \`[N, C]\`), found ${found}`;
      case "dimension":
        return `expected a dimension (a whole number, a name or \`...\`), found ${found}`;
    }
    return `expected ${joinOr(p.expected.map(expectedLabel))}, found ${found}`;
  }
  /** When a body lacks its result because a line starting with `-` continued the last `let`. */
  minusContinuationHint(idx, start) {
    let lastLet = -1;
    for (let j = idx - 1; j >= start; j--) {
      if (this.tokens[j].tokenType === Let) {
        lastLet = j;
        break;
      }
    }
    if (lastLet < 0) return "";
    let depth = 0;
    for (let j = lastLet + 1; j < idx; j++) {
      const t2 = this.tokens[j];
      if (t2.tokenType === LParen || t2.tokenType === LBracket) depth++;
      else if (t2.tokenType === RParen || t2.tokenType === RBracket) depth--;
      else if (depth === 0 && t2.tokenType === Minus && (this.tokens[j - 1].endLine ?? 0) < (t2.startLine ?? 0)) {
        return ` (the line starting with '-' at ${this.where(t2)} continues the \`let\` above it; to start the result with a minus, put the result in parentheses)`;
      }
    }
    return "";
  }
  /** Hints that apply to many errors, keyed on what was found and what came before. */
  hints(idx, start, kind, expected, rule = "", parent = "") {
    const t2 = this.tokens[idx];
    const prev = idx - 1 >= start ? this.tokens[idx - 1] : void 0;
    if (!t2) return "";
    const adjacent = prev !== void 0 && prev.endOffset !== void 0 && prev.endOffset + 1 === t2.startOffset;
    const spacedCall = this.spacedCallBefore(idx, start);
    if (spacedCall !== void 0) {
      return t2.tokenType === LParen ? `; a call is written without a space before '(': \`${spacedCall}(...)\`` : `; \`${spacedCall} (...)\` is not a call: a call is written without a space before '(': \`${spacedCall}(...)\``;
    }
    const nearEquals = ["definition", "param", "paramList", "optionDecl", "letBinding", "destructuring"];
    if (t2.tokenType === Equals && !expected.includes("Equals") && !nearEquals.includes(rule) && !nearEquals.includes(parent)) {
      return " (to compare, write '==')";
    }
    if (t2.tokenType === If && (rule === "operand" || kind === "notAll")) {
      return " (an `if` inside a larger expression must be in parentheses: `(if c then a else b)`)";
    }
    if (t2.tokenType === Star && is(prev, Star) && adjacent) return " (powers are written with '^', e.g. `x^2`)";
    if (kind === "notAll") {
      const spaced = this.spacedCallOnLine(idx, start);
      if (spaced !== void 0) {
        return `; \`${spaced} (...)\` is not a call: a call is written without a space before '(': \`${spaced}(...)\``;
      }
    }
    if (kind === "notAll" || kind === "mismatch") {
      if (t2.tokenType === Let && kind === "notAll" && this.definitionName(idx, start) !== void 0) {
        return " (`let`s come before the result expression; a definition has one result)";
      }
      if ((t2.tokenType === RParen || t2.tokenType === RBracket) && kind === "notAll") {
        return ` (this '${t2.image}' has no matching '${t2.tokenType === RParen ? "(" : "["}')`;
      }
      if (prev && operandEnders.has(prev.tokenType) && operandStarters.has(t2.tokenType) && prev.endLine === t2.startLine) {
        if (is(prev, NumberLiteral) && adjacent && (t2.tokenType === Identifier || t2.tokenType === CallName)) {
          if (/^[eE]\d*$/.test(t2.image)) return " (a number's exponent needs digits, e.g. `1e-7`)";
          return ` (multiplication is written with '*': \`${prev.image} * ${t2.image}\`)`;
        }
        return " (is an operator missing before it?)";
      }
    }
    return "";
  }
  /** A `name (` with a space, earlier in the same `let` or result and on the line before idx. */
  spacedCallOnLine(idx, start) {
    const line = this.tokens[idx - 1]?.endLine;
    for (let j = idx - 1; j > start; j--) {
      const t2 = this.tokens[j];
      if (t2.endLine !== line || t2.tokenType === Let || t2.tokenType === Equals) break;
      const name = this.tokens[j - 1];
      if (t2.tokenType === LParen && name.tokenType === Identifier && name.endLine === t2.startLine && name.endOffset + 1 < t2.startOffset) {
        return name.image;
      }
    }
    return void 0;
  }
  /** `name` if the token at idx is `(` after `name ` or follows `name (...)` on one line. */
  spacedCallBefore(idx, start) {
    const t2 = this.tokens[idx];
    if (!t2) return void 0;
    const check = (open) => {
      const paren = this.tokens[open];
      const name = this.tokens[open - 1];
      if (open - 1 < start || !paren || !name || paren.tokenType !== LParen || name.tokenType !== Identifier) return void 0;
      if (name.endOffset + 1 === paren.startOffset || name.endLine !== paren.startLine) return void 0;
      return name.image;
    };
    if (t2.tokenType === LParen) return check(idx);
    const prev = this.tokens[idx - 1];
    if (prev && idx - 1 >= start && prev.tokenType === RParen && prev.endLine === t2.startLine) {
      let depth = 0;
      for (let j = idx - 1; j >= start; j--) {
        const type = this.tokens[j].tokenType;
        if (type === RParen || type === RBracket) depth++;
        else if (type === LParen || type === LBracket) {
          depth--;
          if (depth === 0) return check(j);
        }
      }
    }
    return void 0;
  }
};

// src/lower/library.ts
var MAX_IMPORT_DEPTH = 32;
var stdlibDirCache;
function stdlibDir() {
  if (stdlibDirCache) return stdlibDirCache;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const cand = join(dir, "stdlib");
    if (existsSync(join(cand, "prelude.loss"))) return stdlibDirCache = cand;
    dir = dirname(dir);
  }
  throw new Error("lossc: cannot find the stdlib folder (stdlib/prelude.loss)");
}
var STDLIB_FILES = ["prelude.loss", "regression.loss", "probabilistic.loss", "hinge.loss", "segmentation.loss", "similarity.loss", "custom.loss", "regularizers.loss"];
var Library = class _Library {
  entries = /* @__PURE__ */ new Map();
  /** Definitions of the program this library was built for (not the stdlib or imports). */
  own = [];
  get(name) {
    return this.entries.get(name);
  }
  names() {
    return [...this.entries.keys()];
  }
  require(name, kinds) {
    const e = this.entries.get(name);
    if (!e || kinds && !kinds.includes(e.def.kind)) {
      const pool = [...this.entries.values()].filter((x) => !kinds || kinds.includes(x.def.kind)).map((x) => x.def.name);
      const what = kinds ? kinds.join(" or ") : "definition";
      throw new LosscError("name", `unknown ${what} \`${name}\`${didYouMean(name, pool)}`);
    }
    return e;
  }
  add(program, fromStdlib, own) {
    const seen = /* @__PURE__ */ new Map();
    const errors = [];
    for (const def of program.definitions) {
      const prev = seen.get(def.name);
      if (prev) {
        errors.push(
          new LosscError("name", `\`${def.name}\` is defined twice in this file (first at line ${prev.span.line})`, def.nameSpan)
        );
        continue;
      }
      seen.set(def.name, def);
      this.entries.set(def.name, { def, file: program.file, fromStdlib });
      if (own) this.own.push(def);
    }
    if (errors.length) throw errors.length === 1 ? errors[0] : new LosscErrors(errors);
  }
  /** The stdlib alone (parsed once per process). */
  static stdlib() {
    if (!stdlibCache) {
      const lib2 = new _Library();
      const dir = stdlibDir();
      for (const f of STDLIB_FILES) {
        const path = join(dir, f);
        if (!existsSync(path)) continue;
        lib2.add(parseProgram(readFileSync(path, "utf8"), `stdlib/${f}`), true, false);
      }
      stdlibCache = lib2;
    }
    return stdlibCache;
  }
  /** The stdlib plus a program given as text (its imports are read relative to `file`). */
  static fromSource(text, file = "<input>") {
    const lib2 = new _Library();
    for (const [k, v] of _Library.stdlib().entries) lib2.entries.set(k, v);
    const program = parseProgram(text, file);
    const base = file.startsWith("<") ? process.cwd() : dirname(resolve(file));
    lib2.loadImports(program, base, [resolve(base, file)], 0);
    lib2.add(program, false, true);
    return lib2;
  }
  static fromFile(path) {
    let text;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      throw new LosscError("import", `cannot read file \`${path}\``);
    }
    return _Library.fromSource(text, path);
  }
  loadImports(program, base, chain, depth) {
    for (const imp of program.imports) {
      if (depth >= MAX_IMPORT_DEPTH) throw new LosscError("import", `imports nest more than ${MAX_IMPORT_DEPTH} deep`, imp.span);
      const path = resolve(base, imp.path);
      if (chain.includes(path)) {
        throw new LosscError("import", `import cycle: ${[...chain, path].map((p) => p.split("/").pop()).join(" \u2192 ")}`, imp.span);
      }
      if (!existsSync(path) || !statSync(path).isFile()) {
        throw new LosscError("import", `cannot find \`${imp.path}\` (looked for ${path})`, imp.span);
      }
      const sub = parseProgram(readFileSync(path, "utf8"), path);
      this.loadImports(sub, dirname(path), [...chain, path], depth + 1);
      this.add(sub, false, false);
    }
  }
};
var stdlibCache;

// src/ir/shape.ts
function showShape(s) {
  return `[${s.join(", ")}]`;
}
function broadcastDim(a, b) {
  if (a === b) return a;
  if (a === 1) return b;
  if (b === 1) return a;
  if (typeof a === "number" && typeof b === "number") return void 0;
  return typeof a === "number" ? a : typeof b === "number" ? b : a;
}
function broadcastShapes(shapes, what = "operands") {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const k = s.length - rank + i;
      if (k < 0) continue;
      const r = broadcastDim(d, s[k]);
      if (r === void 0) {
        throw new LosscError(
          "shape",
          `shapes ${shapes.map(showShape).join(" and ")} of the ${what} cannot broadcast (dimension ${i - rank} is ${d} in one and ${s[k]} in another)`
        );
      }
      d = r;
    }
    out.push(d);
  }
  return out;
}
function normAxis(axis, rank, what = "axis") {
  if (!Number.isInteger(axis)) throw new LosscError("shape", `${what} must be an integer, got ${axis}`);
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) {
    throw new LosscError(
      "shape",
      `${what} ${axis} is out of range for a tensor of rank ${rank}` + (rank === 0 ? " (a scalar has no axes)" : ` (valid: ${-rank} to ${rank - 1})`)
    );
  }
  return a;
}
function normAxes(axes, rank) {
  if (axes === null) return Array.from({ length: rank }, (_, i) => i);
  const out = [...new Set(axes.map((a) => normAxis(a, rank)))];
  if (out.length !== axes.length) throw new LosscError("shape", `axis list [${axes.join(", ")}] repeats an axis`);
  return out.sort((a, b) => a - b);
}
function reducedShape(shape, axes, keepdims) {
  const set = new Set(axes);
  const out = [];
  shape.forEach((d, i) => {
    if (!set.has(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}
function divideDim(d, parts, what) {
  if (typeof d === "number") {
    if (d % parts !== 0) {
      throw new LosscError("shape", `${what}: size ${d} is not divisible by ${parts}`);
    }
    return d / parts;
  }
  const m = /^(\d+)\*(.+)$/.exec(d);
  if (m && Number(m[1]) % parts === 0) {
    const k = Number(m[1]) / parts;
    return k === 1 ? m[2] : `${k}*${m[2]}`;
  }
  return d.includes("/") || d.includes("*") ? `(${d})/${parts}` : `${d}/${parts}`;
}

// src/ir/ops.ts
var float = (s) => ({ shape: s, dtype: "float32" });
function requireFloat(op, args) {
  for (const a of args) {
    if (a.dtype !== "float32") {
      throw new LosscError("type", `\`${op}\` needs float tensors, got ${a.dtype} (convert with float(...))`);
    }
  }
}
function requireDtype(op, a, dtype) {
  if (a.dtype !== dtype) throw new LosscError("type", `\`${op}\` needs a ${dtype} tensor, got ${a.dtype}`);
}
var unaryFloat = {
  arity: 1,
  kind: "unary",
  infer(args) {
    requireFloat("this function", args);
    return float(args[0].shape);
  }
};
var binaryFloat = (name) => ({
  arity: 2,
  kind: "binary",
  infer(args) {
    requireFloat(name, args);
    return float(broadcastShapes([args[0].shape, args[1].shape], `operands of \`${name}\``));
  }
});
var compare = (name) => ({
  arity: 2,
  kind: "compare",
  infer(args) {
    if (args[0].dtype !== args[1].dtype) {
      throw new LosscError("type", `\`${name}\` compares a ${args[0].dtype} with a ${args[1].dtype}`);
    }
    return { shape: broadcastShapes([args[0].shape, args[1].shape], `operands of \`${name}\``), dtype: "bool" };
  }
});
var logic = (name) => ({
  arity: 2,
  kind: "logic",
  infer(args) {
    requireDtype(name, args[0], "bool");
    requireDtype(name, args[1], "bool");
    return { shape: broadcastShapes([args[0].shape, args[1].shape], `operands of \`${name}\``), dtype: "bool" };
  }
});
function reduceAxes(attrs, rank) {
  return normAxes(attrs.axes, rank);
}
var reduction = (name) => ({
  arity: 1,
  kind: "reduce",
  infer(args, attrs) {
    const x = args[0];
    if (name !== "max" && name !== "min") requireFloat(name, args);
    const axes = reduceAxes(attrs, x.shape.length);
    return { shape: reducedShape(x.shape, axes, attrs.keepdims === true), dtype: x.dtype };
  }
});
var OPS = {
  // Leaves. `input`: a named tensor argument. `const`: a scalar literal. `tensor`: a literal array.
  // `param`: a numeric option, kept symbolic for printing but carrying its value for evaluation.
  input: {
    arity: 0,
    kind: "leaf",
    infer: (_a, attrs) => ({ shape: attrs.shape, dtype: attrs.dtype })
  },
  const: {
    arity: 0,
    kind: "leaf",
    infer: (_a, attrs) => ({ shape: [], dtype: attrs.dtype ?? "float32" })
  },
  tensor: {
    arity: 0,
    kind: "leaf",
    infer: (_a, attrs) => ({ shape: attrs.shape, dtype: "float32" })
  },
  param: {
    arity: 0,
    kind: "leaf",
    infer: (_a, attrs) => ({ shape: Array.isArray(attrs.value) ? [attrs.value.length] : [], dtype: "float32" })
  },
  /** The size of `x` along `axes` (the product), as a float scalar. */
  size: {
    arity: 1,
    kind: "other",
    infer(args, attrs) {
      reduceAxes(attrs, args[0].shape.length);
      return float([]);
    }
  },
  /** 0, 1, ..., n-1 where n is the size of `x` along `axis`, as an int vector. */
  indices: {
    arity: 1,
    kind: "other",
    infer(args, attrs) {
      const x = args[0];
      const a = normAxis(attrs.axis, x.shape.length);
      return { shape: [x.shape[a]], dtype: "int32" };
    }
  },
  // Elementwise, one argument.
  neg: unaryFloat,
  exp: unaryFloat,
  log: unaryFloat,
  log1p: unaryFloat,
  expm1: unaryFloat,
  sqrt: unaryFloat,
  abs: unaryFloat,
  sign: unaryFloat,
  sigmoid: unaryFloat,
  softplus: unaryFloat,
  tanh: unaryFloat,
  floor: unaryFloat,
  not: {
    arity: 1,
    kind: "unary",
    infer(args) {
      requireDtype("not", args[0], "bool");
      return { shape: args[0].shape, dtype: "bool" };
    }
  },
  /** Change dtype: float→int truncates (as Keras's cast of labels does), bool→float gives 0/1. */
  cast: {
    arity: 1,
    kind: "unary",
    infer: (args, attrs) => ({ shape: args[0].shape, dtype: attrs.dtype })
  },
  /** Identity whose derivative is zero. */
  stop_gradient: {
    arity: 1,
    kind: "unary",
    infer: (args) => ({ shape: args[0].shape, dtype: args[0].dtype })
  },
  // Elementwise, two arguments, NumPy broadcasting.
  add: binaryFloat("+"),
  sub: binaryFloat("-"),
  mul: binaryFloat("*"),
  div: binaryFloat("/"),
  pow: binaryFloat("^"),
  maximum: binaryFloat("max"),
  minimum: binaryFloat("min"),
  lt: compare("<"),
  le: compare("<="),
  gt: compare(">"),
  ge: compare(">="),
  eq: compare("=="),
  ne: compare("!="),
  and: logic("and"),
  or: logic("or"),
  /** where(cond, a, b): a where cond holds, else b. */
  where: {
    arity: 3,
    kind: "select",
    infer(args) {
      requireDtype("where", args[0], "bool");
      requireFloat("where", args.slice(1));
      return float(broadcastShapes(args.map((a) => a.shape), "arguments of `where`"));
    }
  },
  /** clip(x, lo, hi) = min(max(x, lo), hi); its derivative passes through inside [lo, hi]. */
  clip: {
    arity: 3,
    kind: "select",
    infer(args) {
      requireFloat("clip", args);
      return float(broadcastShapes(args.map((a) => a.shape), "arguments of `clip`"));
    }
  },
  // Reductions over `axes` (null: all), optionally keeping reduced axes as size 1.
  sum: reduction("sum"),
  mean: reduction("mean"),
  max: reduction("max"),
  min: reduction("min"),
  logsumexp: reduction("logsumexp"),
  // Layout.
  /** Broadcast `x` to the shape of `like` (whose values are not used). */
  broadcast_like: {
    arity: 2,
    kind: "layout",
    infer(args) {
      const [x, like] = args;
      const s = broadcastShapes([x.shape, like.shape], "arguments of `broadcast_like`");
      if (s.length !== like.shape.length || s.some((d, i) => d !== like.shape[i] && typeof like.shape[i] === "number")) {
        throw new LosscError("shape", `cannot broadcast ${showShape(x.shape)} to ${showShape(like.shape)}`);
      }
      return { shape: like.shape, dtype: x.dtype };
    }
  },
  expand_dims: {
    arity: 1,
    kind: "layout",
    infer(args, attrs) {
      const x = args[0];
      const a = normAxis(attrs.axis, x.shape.length + 1);
      const s = [...x.shape];
      s.splice(a, 0, 1);
      return { shape: s, dtype: x.dtype };
    }
  },
  squeeze: {
    arity: 1,
    kind: "layout",
    infer(args, attrs) {
      const x = args[0];
      const a = normAxis(attrs.axis, x.shape.length);
      if (x.shape[a] !== 1 && typeof x.shape[a] === "number") {
        throw new LosscError("shape", `cannot squeeze axis ${attrs.axis} of size ${x.shape[a]} (it must be 1)`);
      }
      return { shape: x.shape.filter((_, i) => i !== a), dtype: x.dtype };
    }
  },
  /** Part `index` of `parts` equal parts along `axis`. */
  part: {
    arity: 1,
    kind: "layout",
    infer(args, attrs) {
      const x = args[0];
      const a = normAxis(attrs.axis, x.shape.length);
      const parts = attrs.parts;
      const s = [...x.shape];
      s[a] = divideDim(x.shape[a], parts, `split into ${parts} along axis ${attrs.axis}`);
      return { shape: s, dtype: x.dtype };
    }
  },
  /** Join along `axis`. */
  concat: {
    arity: -1,
    kind: "layout",
    infer(args, attrs) {
      if (args.length === 0) throw new LosscError("arity", "concat needs at least one tensor");
      const first = args[0];
      const a = normAxis(attrs.axis, first.shape.length);
      const total = [];
      for (const x of args) {
        if (x.shape.length !== first.shape.length || x.dtype !== first.dtype) {
          throw new LosscError("shape", `concat needs tensors of one rank and dtype`);
        }
        total.push(x.shape[a]);
      }
      const s = [...first.shape];
      s[a] = total.every((d) => typeof d === "number") ? total.reduce((p, q) => p + q, 0) : total.join("+");
      return { shape: s, dtype: first.dtype };
    }
  },
  transpose: {
    arity: 1,
    kind: "layout",
    infer(args, attrs) {
      const x = args[0];
      const perm = attrs.perm;
      if (perm.length !== x.shape.length || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
        throw new LosscError("shape", `transpose permutation [${perm.join(", ")}] does not fit rank ${x.shape.length}`);
      }
      return { shape: perm.map((p) => x.shape[p]), dtype: x.dtype };
    }
  },
  /** a @ b over the last two axes (batched over leading axes, which broadcast). */
  matmul: {
    arity: 2,
    kind: "other",
    infer(args) {
      requireFloat("matmul", args);
      const [a, b] = args;
      if (a.shape.length < 2 || b.shape.length < 2) {
        throw new LosscError("shape", `matmul needs tensors of rank 2 or more, got ${showShape(a.shape)} and ${showShape(b.shape)}`);
      }
      const k1 = a.shape[a.shape.length - 1];
      const k2 = b.shape[b.shape.length - 2];
      if (typeof k1 === "number" && typeof k2 === "number" && k1 !== k2) {
        throw new LosscError("shape", `matmul of ${showShape(a.shape)} and ${showShape(b.shape)}: inner sizes ${k1} and ${k2} differ`);
      }
      const batch = broadcastShapes([a.shape.slice(0, -2), b.shape.slice(0, -2)], "batch axes of `matmul`");
      return float([...batch, a.shape[a.shape.length - 2], b.shape[b.shape.length - 1]]);
    }
  },
  /** One-hot of int labels: a new last axis of size `depth` (or the size of `ref` along `axis`). */
  one_hot: {
    arity: -1,
    kind: "other",
    infer(args, attrs) {
      if (args.length < 1 || args.length > 2) throw new LosscError("arity", "one_hot takes labels and a depth");
      const labels = args[0];
      requireDtype("one_hot", labels, "int32");
      let depth;
      if (args.length === 2) depth = args[1].shape[normAxis(attrs.axis, args[1].shape.length)];
      else depth = attrs.depth;
      return float([...labels.shape, depth]);
    }
  }
};

// src/ir/node.ts
var nextId = 1;
var table = /* @__PURE__ */ new Map();
var Node = class _Node {
  id;
  op;
  args;
  attrs;
  shape;
  dtype;
  /** The structural key this node is interned under. */
  key;
  constructor(op, args, attrs, shape, dtype, key) {
    this.id = nextId++;
    this.op = op;
    this.args = args;
    this.attrs = attrs;
    this.shape = shape;
    this.dtype = dtype;
    this.key = key;
    Object.freeze(this);
  }
  get rank() {
    return this.shape.length;
  }
  /** Build (or find) a node. Throws a LosscError of kind shape/type when arguments do not fit. */
  static make(op, args, attrs = {}) {
    const spec = OPS[op];
    if (spec.arity >= 0 && args.length !== spec.arity) {
      throw new LosscError("arity", `\`${op}\` takes ${spec.arity} argument(s), got ${args.length}`);
    }
    const key = `${op}|${stableJson(attrs)}|${args.map((a) => a.id).join(",")}`;
    const found = table.get(key);
    if (found) return found;
    const { shape, dtype } = spec.infer(args, attrs);
    const node = new _Node(op, Object.freeze([...args]), Object.freeze({ ...attrs }), Object.freeze([...shape]), dtype, key);
    table.set(key, node);
    return node;
  }
};
function stableJson(v) {
  if (v === null || typeof v !== "object") {
    if (typeof v === "number" && Object.is(v, -0)) return "-0";
    if (typeof v === "number" && !Number.isFinite(v)) return String(v);
    return JSON.stringify(v) ?? "undefined";
  }
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  const o = v;
  return `{${Object.keys(o).filter((k) => o[k] !== void 0).sort().map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`).join(",")}}`;
}
function topoSort(roots) {
  const seen = /* @__PURE__ */ new Set();
  const out = [];
  const stack = [];
  for (const r of roots) {
    if (seen.has(r)) continue;
    stack.push([r, 0]);
    seen.add(r);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [n, i] = top;
      if (i < n.args.length) {
        top[1]++;
        const a = n.args[i];
        if (!seen.has(a)) {
          seen.add(a);
          stack.push([a, 0]);
        }
      } else {
        stack.pop();
        out.push(n);
      }
    }
  }
  return out;
}

// src/ir/build.ts
function constant(value, dtype = "float32") {
  if (Number.isNaN(value)) throw new LosscError("value", "a constant cannot be NaN");
  const v = dtype === "float32" ? Math.fround(value) : dtype === "int32" ? Math.trunc(value) : value ? 1 : 0;
  return Node.make("const", [], dtype === "float32" ? { value: v } : { value: v, dtype });
}
function input(name, shape, dtype = "float32") {
  return Node.make("input", [], { name, shape: [...shape], dtype });
}
function param(name, value) {
  return Node.make("param", [], { name, value: Array.isArray(value) ? value.map(Math.fround) : Math.fround(value) });
}
function tensorConst(values, shape) {
  return Node.make("tensor", [], { values: values.map(Math.fround), shape: [...shape] });
}
function cast(x, dtype) {
  if (x.dtype === dtype) return x;
  if (x.op === "const") return constant(x.attrs.value, dtype);
  return Node.make("cast", [x], { dtype });
}
function asFloat(x) {
  return cast(x, "float32");
}
function unary(op, x) {
  return Node.make(op, [asFloat(x)]);
}
function binary(op, a, b) {
  return Node.make(op, [asFloat(a), asFloat(b)]);
}
var maximum = (a, b) => binary("maximum", a, b);
var minimum = (a, b) => binary("minimum", a, b);
var neg = (x) => unary("neg", x);
function compare2(op, a, b) {
  if (a.dtype !== b.dtype) {
    a = asFloat(a);
    b = asFloat(b);
  }
  return Node.make(op, [a, b]);
}
function where(c, a, b) {
  return Node.make("where", [c, asFloat(a), asFloat(b)]);
}
function clip(x, lo, hi) {
  return Node.make("clip", [asFloat(x), asFloat(lo), asFloat(hi)]);
}
function reduce(op, x, axes, keepdims = false) {
  const xx = op === "max" || op === "min" ? x : asFloat(x);
  const norm = normAxes(axes, xx.rank);
  return Node.make(op, [xx], { axes: norm, keepdims });
}
function size(x, axes) {
  return Node.make("size", [x], { axes: normAxes(axes, x.rank) });
}
function expandDims(x, axis) {
  return Node.make("expand_dims", [x], { axis: axis < 0 ? axis + x.rank + 1 : axis });
}
function squeeze(x, axis) {
  return Node.make("squeeze", [x], { axis: axis < 0 ? axis + x.rank : axis });
}

// src/ir/names.ts
var hints = /* @__PURE__ */ new WeakMap();
function setNameHint(node, name) {
  if (node.args.length === 0) return;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || name === "_") return;
  hints.set(node, name);
}
function nameHint(node) {
  return hints.get(node);
}

// src/lower/builtins.ts
var T = (name) => ({ name, kind: "tensor" });
var S = (name, def) => def === void 0 ? { name, kind: "static" } : { name, kind: "static", default: def };
var t = (a, k) => a[k];
function axesOf(v, what = "axis") {
  if (v === null) return null;
  if (typeof v === "number" && Number.isInteger(v)) return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isInteger(x))) return v;
  throw new LosscError("option", `${what} must be an integer, a list of integers or none, got ${showStatic(v)}`);
}
function intOf(v, what) {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  throw new LosscError("option", `${what} must be an integer, got ${showStatic(v)}`);
}
function boolOf(v, what) {
  if (typeof v === "boolean") return v;
  throw new LosscError("option", `${what} must be true or false, got ${showStatic(v)}`);
}
function showStatic(v) {
  if (v === null) return "none";
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(showStatic).join(", ")}]`;
  return String(v);
}
var unaryOp = (op, doc) => ({
  params: [T("x")],
  doc,
  build: (a) => unary(op, t(a, "x"))
});
var reduction2 = (op, doc) => ({
  params: [T("x"), S("axis", null), S("keepdims", false)],
  doc,
  build: (a) => reduce(op, t(a, "x"), axesOf(a.axis), boolOf(a.keepdims, "keepdims"))
});
var maxOrMin = (red, elementwise, doc) => ({
  params: [T("x"), { name: "y", kind: "tensor", default: null }, S("axis", null), S("keepdims", false)],
  doc,
  build(a) {
    if (a.y !== null && a.y !== void 0) {
      if (a.axis !== null || a.keepdims !== false) {
        throw new LosscError("arity", `the elementwise form of ${red}(a, b) takes no axis or keepdims`);
      }
      return binary(elementwise, t(a, "x"), t(a, "y"));
    }
    return reduce(red, t(a, "x"), axesOf(a.axis), boolOf(a.keepdims, "keepdims"));
  }
});
var BUILTINS = {
  exp: unaryOp("exp", "e to the power x"),
  log: unaryOp("log", "natural logarithm"),
  log1p: unaryOp("log1p", "log(1 + x), accurate for small x"),
  expm1: unaryOp("expm1", "exp(x) - 1, accurate for small x"),
  sqrt: unaryOp("sqrt", "square root"),
  abs: unaryOp("abs", "absolute value"),
  sign: unaryOp("sign", "-1, 0 or 1"),
  sigmoid: unaryOp("sigmoid", "1 / (1 + exp(-x))"),
  softplus: unaryOp("softplus", "log(1 + exp(x)), computed stably"),
  tanh: unaryOp("tanh", "hyperbolic tangent"),
  floor: unaryOp("floor", "largest integer not above x"),
  stop_gradient: { params: [T("x")], doc: "x, with a zero derivative", build: (a) => Node.make("stop_gradient", [t(a, "x")]) },
  float: { params: [T("x")], doc: "convert to float (bools give 0/1)", build: (a) => cast(t(a, "x"), "float32") },
  int: { params: [T("x")], doc: "convert to int (truncates toward zero)", build: (a) => cast(t(a, "x"), "int32") },
  bool: { params: [T("x")], doc: "convert to bool (x != 0)", build: (a) => cast(t(a, "x"), "bool") },
  where: {
    params: [T("cond"), T("a"), T("b")],
    doc: "a where cond holds, b elsewhere (elementwise)",
    build(a) {
      const c = t(a, "cond");
      if (c.dtype !== "bool") throw new LosscError("type", `the condition of where(...) must be a comparison (bool), got ${c.dtype}`);
      return where(c, t(a, "a"), t(a, "b"));
    }
  },
  clip: { params: [T("x"), T("lo"), T("hi")], doc: "min(max(x, lo), hi)", build: (a) => clip(t(a, "x"), t(a, "lo"), t(a, "hi")) },
  maximum: { params: [T("a"), T("b")], doc: "elementwise maximum", build: (a) => maximum(t(a, "a"), t(a, "b")) },
  minimum: { params: [T("a"), T("b")], doc: "elementwise minimum", build: (a) => minimum(t(a, "a"), t(a, "b")) },
  max: maxOrMin("max", "maximum", "max(x, axis = ...) reduces; max(a, b) is elementwise"),
  min: maxOrMin("min", "minimum", "min(x, axis = ...) reduces; min(a, b) is elementwise"),
  sum: reduction2("sum", "sum over axis (none: every axis)"),
  mean: reduction2("mean", "mean over axis (none: every axis)"),
  logsumexp: reduction2("logsumexp", "log(sum(exp(x))) over axis, computed stably"),
  size: {
    params: [T("x"), S("axis", null)],
    doc: "the number of elements of x along axis (none: all), as a number",
    build: (a) => size(t(a, "x"), axesOf(a.axis))
  },
  indices: {
    params: [T("x"), S("axis", 0)],
    doc: "0, 1, ..., n-1 (ints), n = size of x along axis",
    build: (a) => Node.make("indices", [t(a, "x")], { axis: intOf(a.axis, "axis") })
  },
  zeros_like: { params: [T("x")], doc: "zeros shaped like x", build: (a) => Node.make("broadcast_like", [constant(0), t(a, "x")]) },
  ones_like: { params: [T("x")], doc: "ones shaped like x", build: (a) => Node.make("broadcast_like", [constant(1), t(a, "x")]) },
  broadcast_like: {
    params: [T("x"), T("like")],
    doc: "x broadcast to the shape of like",
    build: (a) => Node.make("broadcast_like", [t(a, "x"), t(a, "like")])
  },
  expand_dims: {
    params: [T("x"), S("axis")],
    doc: "insert an axis of size 1",
    build: (a) => expandDims(t(a, "x"), intOf(a.axis, "axis"))
  },
  squeeze: {
    params: [T("x"), S("axis")],
    doc: "remove an axis of size 1",
    build: (a) => squeeze(t(a, "x"), intOf(a.axis, "axis"))
  },
  split: {
    params: [T("x"), S("parts"), S("axis", -1)],
    doc: "split into equal parts along axis; destructure with let [a, b, c] = split(...)",
    build(a) {
      const x = t(a, "x");
      const parts = intOf(a.parts, "the number of parts");
      if (parts < 1) throw new LosscError("option", `split needs at least 1 part, got ${parts}`);
      const axis = intOf(a.axis, "axis");
      const ax = axis < 0 ? axis + x.rank : axis;
      return Array.from({ length: parts }, (_, index) => Node.make("part", [x], { axis: ax, parts, index }));
    }
  },
  part: {
    params: [T("x"), S("index"), S("parts"), S("axis", -1)],
    doc: "part index (from 0) of split(x, parts, axis)",
    build(a) {
      const x = t(a, "x");
      const parts = intOf(a.parts, "parts");
      const index = intOf(a.index, "index");
      if (index < 0 || index >= parts) throw new LosscError("option", `part index ${index} is not in 0..${parts - 1}`);
      const axis = intOf(a.axis, "axis");
      return Node.make("part", [x], { axis: axis < 0 ? axis + x.rank : axis, parts, index });
    }
  },
  concat: {
    params: [{ name: "xs", kind: "tensors" }, S("axis", -1)],
    doc: "join a list of tensors along axis",
    build(a) {
      const xs = a.xs;
      if (xs.length === 0) throw new LosscError("arity", "concat needs at least one tensor");
      const axis = intOf(a.axis, "axis");
      return Node.make("concat", xs, { axis: axis < 0 ? axis + xs[0].rank : axis });
    }
  },
  transpose: {
    params: [T("x"), S("perm", null)],
    doc: "permute axes (none: reverse them)",
    build(a) {
      const x = t(a, "x");
      const perm = a.perm === null ? Array.from({ length: x.rank }, (_, i) => x.rank - 1 - i) : axesOfPerm(a.perm);
      return Node.make("transpose", [x], { perm });
    }
  },
  matmul: { params: [T("a"), T("b")], doc: "matrix product over the last two axes", build: (a) => Node.make("matmul", [t(a, "a"), t(a, "b")]) }
};
function axesOfPerm(v) {
  if (Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isInteger(x))) return v;
  throw new LosscError("option", `perm must be a list of integers, got ${showStatic(v)}`);
}
var CONSTANTS = {
  epsilon: 1e-7,
  pi: Math.PI,
  inf: Infinity
};
var SPECIAL_FORMS = /* @__PURE__ */ new Set(["one_hot", "masked"]);

// src/lower/signature.ts
function paramDtype(t2) {
  return t2?.dtype === "int" ? "int32" : t2?.dtype === "bool" ? "bool" : "float32";
}
function displaySignature(def) {
  const out = {};
  for (const p of def.params) {
    const dims = p.type?.shape;
    const shape = dims ? dims.map((d) => d.kind === "ellipsis" ? "N" : d.kind === "fixed" ? d.size : d.name) : ["N", "D"];
    out[p.name] = { shape, dtype: paramDtype(p.type) };
  }
  return out;
}

// src/lower/lower.ts
var MAX_CALL_DEPTH = 64;
var Env = class {
  constructor(parent) {
    this.parent = parent;
  }
  parent;
  vars = /* @__PURE__ */ new Map();
  get(name) {
    return this.vars.get(name) ?? this.parent?.get(name);
  }
  set(name, b) {
    this.vars.set(name, b);
  }
  names() {
    return [...this.vars.keys(), ...this.parent?.names() ?? []];
  }
};
function at(span, f) {
  try {
    return f();
  } catch (e) {
    if (e instanceof LosscError && !e.span && span) throw new LosscError(e.kind, e.detail, span);
    throw e;
  }
}
function once(f) {
  let done = false;
  let v;
  return () => {
    if (!done) {
      v = f();
      done = true;
    }
    return v;
  };
}
function staticType(v) {
  if (v === null) return "none";
  if (Array.isArray(v)) return "list";
  return typeof v;
}
function optionAccepts(def, given) {
  if (def === null) return true;
  if (typeof def === "number") return typeof given === "number" || given === null || isNumberList(given);
  if (Array.isArray(def)) return isNumberList(given) || typeof given === "number" || given === null;
  return typeof def === typeof given;
}
function isNumberList(v) {
  return Array.isArray(v) && v.every((x) => typeof x === "number");
}
function staticToTensor(v, span) {
  if (typeof v === "number") return constant(v);
  if (typeof v === "boolean") return constant(v ? 1 : 0, "bool");
  if (Array.isArray(v)) {
    const shape = [];
    let level = v;
    while (Array.isArray(level)) {
      shape.push(level.length);
      level = level[0];
    }
    const flat = [];
    const walk = (x, depth) => {
      if (depth === shape.length) {
        if (typeof x !== "number") throw new LosscError("type", `a tensor literal holds numbers only, found ${showStatic(x)}`, span);
        flat.push(x);
        return;
      }
      if (!Array.isArray(x) || x.length !== shape[depth]) throw new LosscError("shape", "a tensor literal must be rectangular", span);
      for (const y of x) walk(y, depth + 1);
    };
    walk(v, 0);
    return tensorConst(flat, shape);
  }
  throw new LosscError("type", `${v === null ? "`none`" : "a string"} cannot be used as a tensor`, span);
}
var Lowerer = class {
  constructor(lib2, symbolic) {
    this.lib = lib2;
    this.symbolic = symbolic;
  }
  lib;
  symbolic;
  depth = 0;
  stack = [];
  memo = /* @__PURE__ */ new Map();
  /** Lower a `loss`, `regularizer` or `def` with tensors of the given shapes. */
  lowerTop(def, given, signature) {
    const options = this.resolveOptions(def, given, void 0);
    const env = new Env();
    const inputs = [];
    for (const p of def.params) {
      const t2 = signature[p.name] ?? { shape: ["N", "D"], dtype: paramDtype(p.type) };
      const node = input(p.name, t2.shape, t2.dtype);
      inputs.push(node);
      env.set(p.name, tensorBinding(node, `the tensor \`${p.name}\``, p.span));
    }
    for (const o of def.options) {
      const value = options[o.name];
      const symbolic = this.symbolic && !(o.name in given) && (typeof value === "number" || isNumberList(value));
      env.set(o.name, {
        span: o.span,
        what: `the option \`${o.name}\``,
        static: () => value,
        tensor: once(() => symbolic ? param(o.name, value) : staticToTensor(value, o.span))
      });
    }
    this.stack.push(def.name);
    try {
      const { value, mask } = this.lowerBody(def, env, true);
      return { def, inputs, value, mask, options };
    } finally {
      this.stack.pop();
    }
  }
  /** Option values: defaults, overridden by `given`, each type-checked. */
  resolveOptions(def, given, span) {
    const out = {};
    const declared = new Map(def.options.map((o) => [o.name, o]));
    for (const name of Object.keys(given)) {
      if (!declared.has(name)) {
        const known = def.options.map((o) => o.name);
        throw new LosscError(
          "option",
          `\`${def.name}\` has no option \`${name}\`${didYouMean(name, known)}` + (known.length ? ` (its options: ${known.join(", ")})` : " (it takes no options)"),
          span
        );
      }
    }
    for (const o of def.options) {
      const dflt = this.lowerStatic(o.default, new Env());
      const v = o.name in given ? given[o.name] : dflt;
      if (o.name in given && !optionAccepts(dflt, v)) {
        throw new LosscError(
          "option",
          `option \`${o.name}\` of \`${def.name}\` takes a ${staticType(dflt)}${typeof dflt === "number" ? " (or a list of numbers)" : ""}, got ${showStatic(v)}`,
          span
        );
      }
      out[o.name] = v;
    }
    return out;
  }
  lowerBody(def, env, top) {
    const scope = new Env(env);
    for (const l2 of def.body.lets) {
      const inner = scope;
      if (l2.destructure) {
        const parts = once(() => this.lowerTensors(l2.value, inner, l2.names.length));
        l2.names.forEach((name, i) => {
          scope.set(name, {
            span: l2.span,
            what: `\`${name}\``,
            tensor: () => {
              const n = parts()[i];
              if (n.op !== "input" && n.op !== "param" && name !== "_") setNameHint(n, name);
              return n;
            },
            static: () => {
              throw new LosscError("type", `\`${name}\` is a tensor, not a compile-time constant`, l2.span);
            }
          });
        });
      } else {
        const name = l2.names[0];
        const value = l2.value;
        const tensor = once(() => {
          const n = this.lowerTensor(value, inner);
          if (n.args.length > 0) setNameHint(n, name);
          return n;
        });
        scope.set(name, { span: l2.span, what: `\`${name}\``, tensor, static: once(() => this.lowerStatic(value, inner)) });
      }
    }
    for (const l2 of def.body.lets) {
      for (const name of l2.names) {
        const bnd = scope.get(name);
        try {
          bnd.tensor();
        } catch (e) {
          try {
            bnd.static();
          } catch {
            throw e;
          }
        }
      }
    }
    return this.lowerResult(def.body.result, scope, top);
  }
  /** The result of a body: an expression, a compile-time `if`, or `masked(values, mask)` for a loss. */
  lowerResult(e, env, top) {
    if (e.kind === "if") return this.lowerResult(this.pickBranch(e, env), env, top);
    if (e.kind === "call" && e.callee === "masked" && !env.get("masked")) {
      this.checkArgs(e, 2, []);
      const value = this.lowerTensor(e.args[0], env);
      const mask = this.lowerTensor(e.args[1], env);
      if (mask.dtype !== "bool") throw new LosscError("type", "the mask of masked(values, mask) must be a comparison (bool)", e.args[1].span);
      if (!top) return { value };
      return { value, mask };
    }
    return { value: this.lowerTensor(e, env) };
  }
  pickBranch(e, env) {
    const c = this.lowerStatic(e.cond, env);
    if (typeof c !== "boolean") {
      throw new LosscError("type", `the condition of \`if\` must be a compile-time boolean (e.g. an option), got ${showStatic(c)}; for an elementwise choice use where(cond, a, b)`, e.cond.span);
    }
    return c ? e.then : e.else;
  }
  // ---- tensor context -------------------------------------------------------------------------
  lowerTensor(e, env) {
    switch (e.kind) {
      case "number":
        return constant(e.value);
      case "bool":
        return constant(e.value ? 1 : 0, "bool");
      case "string":
        throw new LosscError("type", `the string ${JSON.stringify(e.value)} cannot be used as a tensor`, e.span);
      case "none":
        throw new LosscError("type", "`none` cannot be used as a tensor", e.span);
      case "list":
        return staticToTensor(this.lowerStatic(e, env), e.span);
      case "name":
        return this.lookup(e.name, e.span, env).tensor();
      case "unary": {
        const x = this.lowerTensor(e.operand, env);
        if (e.op === "not") return at(e.span, () => Node.make("not", [x.dtype === "bool" ? x : cast(x, "bool")]));
        return at(e.span, () => neg(x));
      }
      case "binary": {
        const l2 = this.lowerTensor(e.left, env);
        const r = this.lowerTensor(e.right, env);
        return at(e.span, () => binaryNode(e.op, l2, r));
      }
      case "if":
        return this.lowerTensor(this.pickBranch(e, env), env);
      case "call":
        return this.lowerCall(e, env, 1)[0];
    }
  }
  /** An expression that yields several tensors (`split`), for destructuring lets. */
  lowerTensors(e, env, want) {
    let nodes2;
    if (e.kind === "call") nodes2 = this.lowerCall(e, env, want);
    else if (e.kind === "list") nodes2 = e.items.map((x) => this.lowerTensor(x, env));
    else if (e.kind === "if") return this.lowerTensors(this.pickBranch(e, env), env, want);
    else throw new LosscError("type", "only a list or a call such as split(...) can be destructured", e.span);
    if (nodes2.length !== want) {
      throw new LosscError("arity", `this gives ${nodes2.length} value(s) but ${want} name(s) are bound`, e.span);
    }
    return nodes2;
  }
  lookup(name, span, env) {
    const found = env.get(name);
    if (found) return found;
    if (name in CONSTANTS) {
      const v = CONSTANTS[name];
      return { what: `the constant \`${name}\``, tensor: () => constant(v), static: () => v };
    }
    const isFn = this.lib.get(name) || name in BUILTINS || SPECIAL_FORMS.has(name);
    if (isFn) throw new LosscError("name", `\`${name}\` is a function; call it as ${name}(...)`, span);
    const pool = [...env.names(), ...Object.keys(CONSTANTS)];
    throw new LosscError("name", `unknown name \`${name}\`${didYouMean(name, pool)}`, span);
  }
  // ---- calls ----------------------------------------------------------------------------------
  /** Lower a call; `want` > 1 asks for a list result (split). */
  lowerCall(c, env, want) {
    const entry = this.lib.get(c.callee);
    if (entry) return [this.inlineDefinition(entry.def, c, env)];
    if (c.callee === "one_hot") return [this.lowerOneHot(c, env)];
    if (c.callee === "masked") {
      this.checkArgs(c, 2, []);
      return [this.lowerTensor(c.args[0], env)];
    }
    const builtin = BUILTINS[c.callee];
    if (!builtin) {
      const pool = [...this.lib.names(), ...Object.keys(BUILTINS), ...SPECIAL_FORMS];
      throw new LosscError("name", `unknown function \`${c.callee}\`${didYouMean(c.callee, pool)}`, c.span);
    }
    const out = this.callBuiltin(c.callee, builtin, c, env);
    if (Array.isArray(out)) {
      if (want === 1) throw new LosscError("type", `\`${c.callee}\` gives several tensors: destructure it with let [a, b, ...] = ${c.callee}(...)`, c.span);
      return out;
    }
    return [out];
  }
  checkArgs(c, n, kw) {
    if (c.args.length !== n) throw new LosscError("arity", `\`${c.callee}\` takes ${n} argument(s), got ${c.args.length}`, c.span);
    for (const k of c.kwargs) {
      if (!kw.includes(k.name)) throw new LosscError("arity", `\`${c.callee}\` has no argument \`${k.name}\`${didYouMean(k.name, kw)}`, k.span);
    }
  }
  callBuiltin(name, fn, c, env) {
    const names = fn.params.map((p) => p.name);
    const required = fn.params.filter((p) => !("default" in p));
    if (c.args.length > fn.params.length) {
      throw new LosscError("arity", `\`${name}\` takes at most ${fn.params.length} argument(s) (${names.join(", ")}), got ${c.args.length}`, c.span);
    }
    const exprs = /* @__PURE__ */ new Map();
    c.args.forEach((a, i) => exprs.set(fn.params[i].name, a));
    for (const k of c.kwargs) {
      if (!names.includes(k.name)) {
        throw new LosscError("arity", `\`${name}\` has no argument \`${k.name}\`${didYouMean(k.name, names)} (it takes ${names.join(", ")})`, k.span);
      }
      if (exprs.has(k.name)) throw new LosscError("arity", `argument \`${k.name}\` of \`${name}\` is given twice`, k.span);
      exprs.set(k.name, k.value);
    }
    for (const p of required) {
      if (!exprs.has(p.name)) {
        throw new LosscError(
          "arity",
          `\`${name}\` needs ${required.length} argument(s) (${required.map((p2) => p2.name).join(", ")}), got ${c.args.length}: \`${p.name}\` is missing`,
          c.span
        );
      }
    }
    const args = {};
    for (const p of fn.params) {
      const e = exprs.get(p.name);
      if (!e) {
        args[p.name] = p.default;
        continue;
      }
      if (p.kind === "tensor") args[p.name] = this.lowerTensor(e, env);
      else if (p.kind === "static") args[p.name] = this.staticArg(e, env, `\`${p.name}\` of \`${name}\``);
      else {
        if (e.kind !== "list") throw new LosscError("type", `\`${p.name}\` of \`${name}\` must be a list [a, b, ...]`, e.span);
        args[p.name] = e.items.map((x) => this.lowerTensor(x, env));
      }
    }
    return at(c.span, () => fn.build(args));
  }
  staticArg(e, env, what) {
    try {
      return this.lowerStatic(e, env);
    } catch (err) {
      if (err instanceof LosscError && err.kind === "type") {
        throw new LosscError("type", `${what} must be a compile-time constant: ${err.detail}`, e.span);
      }
      throw err;
    }
  }
  /** one_hot(labels, depth): depth is a number or size(x, axis = k) (the size of an axis of x). */
  lowerOneHot(c, env) {
    this.checkArgs(c, 2, []);
    let labels = this.lowerTensor(c.args[0], env);
    if (labels.dtype !== "int32") labels = cast(labels, "int32");
    const d = c.args[1];
    if (d.kind === "call" && d.callee === "size" && !this.lib.get("size")) {
      const x = this.lowerTensor(d.args[0], env);
      const axisExpr = d.kwargs.find((k) => k.name === "axis")?.value ?? d.args[1];
      const axis = axisExpr ? this.staticArg(axisExpr, env, "the axis of size(...)") : null;
      if (typeof axis !== "number") throw new LosscError("type", "one_hot depth size(x, axis = k) needs a single axis", d.span);
      return at(c.span, () => Node.make("one_hot", [labels, x], { axis: axis < 0 ? axis + x.rank : axis }));
    }
    const depth = this.staticArg(d, env, "the depth of one_hot");
    if (typeof depth !== "number" || !Number.isInteger(depth) || depth < 1) {
      throw new LosscError("type", `the depth of one_hot must be a positive integer or size(x, axis = k), got ${showStatic(depth)}`, d.span);
    }
    return at(c.span, () => Node.make("one_hot", [labels], { depth }));
  }
  /** Inline a `def` or a called `loss`/`regularizer`: bind its parameters and options, lower its body. */
  inlineDefinition(def, c, env) {
    if (this.stack.includes(def.name)) {
      const cycle = [...this.stack.slice(this.stack.indexOf(def.name)), def.name];
      throw new LosscError("recursion", `\`${def.name}\` calls itself (${cycle.join(" \u2192 ")}); definitions are inlined, so recursion is not allowed`, c.span);
    }
    if (this.depth >= MAX_CALL_DEPTH) {
      throw new LosscError("limit", `calls nest more than ${MAX_CALL_DEPTH} deep`, c.span);
    }
    const paramNames = def.params.map((p) => p.name);
    const optionNames = def.options.map((o) => o.name);
    if (c.args.length > def.params.length) {
      throw new LosscError(
        "arity",
        `\`${def.name}\` takes ${def.params.length} tensor argument(s) (${paramNames.join(", ")}), got ${c.args.length}` + (optionNames.length ? `; options are given by name (${optionNames.map((o) => `${o} = ...`).join(", ")})` : ""),
        c.span
      );
    }
    const argExprs = /* @__PURE__ */ new Map();
    c.args.forEach((a, i) => argExprs.set(paramNames[i], a));
    const optionExprs = /* @__PURE__ */ new Map();
    for (const k of c.kwargs) {
      if (paramNames.includes(k.name)) {
        if (argExprs.has(k.name)) throw new LosscError("arity", `argument \`${k.name}\` of \`${def.name}\` is given twice`, k.span);
        argExprs.set(k.name, k.value);
      } else if (optionNames.includes(k.name)) {
        optionExprs.set(k.name, k.value);
      } else {
        throw new LosscError(
          "option",
          `\`${def.name}\` has no option \`${k.name}\`${didYouMean(k.name, [...optionNames, ...paramNames])}` + (optionNames.length ? ` (its options: ${optionNames.join(", ")})` : " (it takes no options)"),
          k.span
        );
      }
    }
    const missing = paramNames.filter((p) => !argExprs.has(p));
    if (missing.length) {
      throw new LosscError("arity", `\`${def.name}\` needs ${paramNames.length} tensor argument(s) (${paramNames.join(", ")}), \`${missing[0]}\` is missing`, c.span);
    }
    const args = def.params.map((p) => {
      let n = this.lowerTensor(argExprs.get(p.name), env);
      const want = paramDtype(p.type);
      if (n.dtype !== want) n = cast(n, want);
      return n;
    });
    const given = /* @__PURE__ */ new Map();
    const keyParts = [];
    for (const [name, e] of optionExprs) {
      const st = once(() => this.lowerStatic(e, env));
      const te = once(() => this.lowerTensor(e, env));
      given.set(name, { static: st, tensor: te, span: e.span });
      keyParts.push(`${name}=${tryKey(st)}|${tryKey(() => te().id)}`);
    }
    const key = `${def.name}(${args.map((a) => a.id).join(",")};${keyParts.join(",")})`;
    const hit = this.memo.get(key);
    if (hit) return hit;
    const inner = new Env();
    def.params.forEach((p, i) => inner.set(p.name, tensorBinding(args[i], `the tensor \`${p.name}\``, p.span)));
    for (const o of def.options) {
      const g = given.get(o.name);
      if (g) {
        let dflt;
        inner.set(o.name, {
          span: g.span,
          what: `the option \`${o.name}\``,
          static: () => {
            const v = g.static();
            dflt ??= this.lowerStatic(o.default, new Env());
            if (!optionAccepts(dflt, v)) {
              throw new LosscError("option", `option \`${o.name}\` of \`${def.name}\` takes a ${staticType(dflt)}, got ${showStatic(v)}`, g.span);
            }
            return v;
          },
          tensor: g.tensor
        });
      } else {
        const value = once(() => this.lowerStatic(o.default, new Env()));
        inner.set(o.name, { span: o.span, what: `the option \`${o.name}\``, static: value, tensor: once(() => staticToTensor(value(), o.span)) });
      }
    }
    this.stack.push(def.name);
    this.depth++;
    try {
      const { value } = this.lowerBody(def, inner, false);
      this.memo.set(key, value);
      return value;
    } finally {
      this.stack.pop();
      this.depth--;
    }
  }
  // ---- static context -------------------------------------------------------------------------
  lowerStatic(e, env) {
    switch (e.kind) {
      case "number":
        return e.value;
      case "bool":
        return e.value;
      case "string":
        return e.value;
      case "none":
        return null;
      case "list":
        return e.items.map((x) => this.lowerStatic(x, env));
      case "name":
        return this.lookup(e.name, e.span, env).static();
      case "unary": {
        const v = this.lowerStatic(e.operand, env);
        if (e.op === "-") {
          if (typeof v === "number") return -v;
          if (isNumberList(v)) return v.map((x) => -x);
        } else if (typeof v === "boolean") return !v;
        throw new LosscError("type", `cannot apply \`${e.op}\` to ${showStatic(v)}`, e.span);
      }
      case "binary": {
        const l2 = this.lowerStatic(e.left, env);
        const r = this.lowerStatic(e.right, env);
        return at(e.span, () => staticBinary(e.op, l2, r));
      }
      case "if":
        return this.lowerStatic(this.pickBranch(e, env), env);
      case "call":
        throw new LosscError("type", `\`${e.callee}(...)\` is computed from tensors, but a compile-time constant is needed here`, e.span);
    }
  }
};
function tryKey(f) {
  try {
    return JSON.stringify(f());
  } catch {
    return "?";
  }
}
function tensorBinding(node, what, span) {
  return {
    span,
    what,
    tensor: () => node,
    static: () => {
      throw new LosscError("type", `${what} is a tensor, not a compile-time constant`, span);
    }
  };
}
var BINARY_OPS = { "+": "add", "-": "sub", "*": "mul", "/": "div", "^": "pow" };
var COMPARE_OPS = { "<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne" };
function binaryNode(op, l2, r) {
  if (op in BINARY_OPS) return binary(BINARY_OPS[op], l2, r);
  if (op in COMPARE_OPS) return compare2(COMPARE_OPS[op], l2, r);
  const toBool = (x) => x.dtype === "bool" ? x : cast(x, "bool");
  return Node.make(op, [toBool(l2), toBool(r)]);
}
function staticBinary(op, l2, r) {
  if (op === "and" || op === "or") {
    if (typeof l2 !== "boolean" || typeof r !== "boolean") throw new LosscError("type", `\`${op}\` needs booleans, got ${showStatic(l2)} and ${showStatic(r)}`);
    return op === "and" ? l2 && r : l2 || r;
  }
  if (op === "==" || op === "!=") {
    const eq = JSON.stringify(l2) === JSON.stringify(r);
    return op === "==" ? eq : !eq;
  }
  if (typeof l2 !== "number" || typeof r !== "number") {
    throw new LosscError("type", `\`${op}\` on compile-time values needs numbers, got ${showStatic(l2)} and ${showStatic(r)}`);
  }
  switch (op) {
    case "+":
      return l2 + r;
    case "-":
      return l2 - r;
    case "*":
      return l2 * r;
    case "/":
      return l2 / r;
    case "^":
      return Math.pow(l2, r);
    case "<":
      return l2 < r;
    case "<=":
      return l2 <= r;
    case ">":
      return l2 > r;
    case ">=":
      return l2 >= r;
  }
  throw new LosscError("type", `unknown operator ${op}`);
}
function lowerDefinition(lib2, name, opts = {}) {
  const entry = lib2.require(name);
  const def = entry.def;
  const signature = opts.signature ?? displaySignature(def);
  return new Lowerer(lib2, opts.symbolic ?? false).lowerTop(def, opts.options ?? {}, signature);
}

// src/print/text.ts
var PREC = {
  lowest: 0,
  or: 1,
  and: 2,
  not: 3,
  compare: 4,
  add: 5,
  mul: 6,
  neg: 7,
  pow: 8,
  atom: 9
};
var ref = (node, min, noUnary = false) => noUnary ? { node, min, noUnary } : { node, min };
function expand(root, min, bound, r, self) {
  const out = [];
  const stack = [ref(root, min)];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === "string") {
      out.push(item);
      continue;
    }
    let node = item.node;
    let name;
    for (; ; ) {
      name = node === self ? void 0 : bound.get(node);
      if (name !== void 0 || !r.skip) break;
      const inner = r.skip(node);
      if (inner === void 0) break;
      node = inner;
    }
    if (name !== void 0) {
      out.push(r.name(name));
      continue;
    }
    const rendered = r.render(node);
    const wrap = rendered.prec < item.min || item.noUnary === true && rendered.prec === PREC.neg;
    if (wrap) stack.push(r.close);
    for (let i = rendered.pieces.length - 1; i >= 0; i--) stack.push(rendered.pieces[i]);
    if (wrap) stack.push(r.open);
  }
  return out.join("");
}
var DEFAULT_MAX_DEPTH = 100;
var RESERVED_NAMES = /* @__PURE__ */ new Set([
  // keywords
  "loss",
  "def",
  "regularizer",
  "import",
  "let",
  "if",
  "then",
  "else",
  "and",
  "or",
  "not",
  "true",
  "false",
  "none",
  // named constants
  "epsilon",
  "pi",
  "inf",
  // built-in functions and special forms
  "exp",
  "log",
  "log1p",
  "expm1",
  "sqrt",
  "abs",
  "sign",
  "sigmoid",
  "softplus",
  "tanh",
  "floor",
  "stop_gradient",
  "float",
  "int",
  "bool",
  "where",
  "clip",
  "maximum",
  "minimum",
  "max",
  "min",
  "sum",
  "mean",
  "logsumexp",
  "size",
  "indices",
  "zeros_like",
  "ones_like",
  "broadcast_like",
  "expand_dims",
  "squeeze",
  "split",
  "part",
  "concat",
  "transpose",
  "matmul",
  "one_hot",
  "masked",
  // prelude helpers people call constantly
  "relu",
  "square",
  "softmax",
  "log_softmax",
  "l2_normalize",
  "norm",
  // the placeholder of unused destructured names
  "_"
]);
var IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
var isLeaf = (n) => OPS[n.op].kind === "leaf";
var isAtomLeaf = (n) => isLeaf(n) && n.op !== "tensor";
function trivialText(n) {
  if (isAtomLeaf(n)) return true;
  switch (n.op) {
    case "neg":
    case "cast":
    case "size":
      return isAtomLeaf(n.args[0]);
    case "broadcast_like":
      return isAtomLeaf(n.args[0]) && isAtomLeaf(n.args[1]);
    default:
      return false;
  }
}
var normAxis2 = (axis, rank) => axis < 0 ? axis + rank : axis;
function lookupName(src, n) {
  if (src === void 0) return void 0;
  return typeof src === "function" ? src(n) : src.get(n);
}
function ownNesting(n) {
  switch (n.op) {
    case "const":
      return n.attrs.dtype === "int32" ? 1 : 0;
    case "tensor":
      return n.rank;
    case "input":
    case "param":
      return 0;
    case "concat":
      return 2;
    case "one_hot":
      return n.args.length === 2 ? 2 : 1;
    default:
      return 1;
  }
}
function splitKey(part) {
  const source = part.args[0];
  return `${source.id}|${normAxis2(part.attrs.axis, source.rank)}|${part.attrs.parts}`;
}
function planLets(roots, trivial, opts = {}) {
  const maxDepth = Math.max(2, opts.maxDepth ?? DEFAULT_MAX_DEPTH);
  const order = topoSort(roots);
  const rootSet = new Set(roots);
  const uses = /* @__PURE__ */ new Map();
  const use = (n) => uses.set(n, (uses.get(n) ?? 0) + 1);
  const splitKeys = /* @__PURE__ */ new Set();
  for (const n of order) {
    if (n.op === "part") {
      const key = splitKey(n);
      if (splitKeys.has(key)) continue;
      splitKeys.add(key);
    }
    for (const a of n.args) use(a);
  }
  for (const r of roots) use(r);
  const bound = /* @__PURE__ */ new Set();
  const depth = /* @__PURE__ */ new Map();
  for (const n of order) {
    if (n.op === "part" || (uses.get(n) ?? 0) >= 2 && !trivial(n)) bound.add(n);
    let d = ownNesting(n);
    if (n.args.length > 0) {
      let inner = 0;
      for (const a of n.args) inner = Math.max(inner, bound.has(a) ? 0 : depth.get(a));
      d += inner;
      if (d >= maxDepth && !rootSet.has(n)) bound.add(n);
    }
    depth.set(n, d);
  }
  const drafts = [];
  const splits = /* @__PURE__ */ new Map();
  for (const n of order) {
    if (!bound.has(n)) continue;
    if (n.op !== "part") {
      drafts.push({ kind: "let", node: n });
      continue;
    }
    const source = n.args[0];
    const axis = normAxis2(n.attrs.axis, source.rank);
    const parts = n.attrs.parts;
    const index = n.attrs.index;
    const key = splitKey(n);
    const groups = splits.get(key) ?? [];
    splits.set(key, groups);
    let g = groups.find((x) => x.nodes[index] === void 0);
    if (!g) {
      g = { kind: "split", source, axis, parts, nodes: new Array(parts).fill(void 0) };
      groups.push(g);
      drafts.push(g);
    }
    g.nodes[index] = n;
  }
  const reserved = new Set(RESERVED_NAMES);
  for (const r of opts.reserved ?? []) reserved.add(r);
  for (const n of order) if (n.op === "input" || n.op === "param") reserved.add(n.attrs.name);
  const boundInOrder = [];
  for (const d of drafts) {
    if (d.kind === "let") boundInOrder.push(d.node);
    else for (const n of d.nodes) if (n) boundInOrder.push(n);
  }
  const valid = (s) => s !== void 0 && IDENT.test(s) && !reserved.has(s);
  const wanted = /* @__PURE__ */ new Map();
  const count = /* @__PURE__ */ new Map();
  for (const n of boundInOrder) {
    const explicit = lookupName(opts.names, n);
    const h = valid(explicit) ? explicit : nameHint(n);
    if (!valid(h)) continue;
    wanted.set(n, h);
    count.set(h, (count.get(h) ?? 0) + 1);
  }
  const names = /* @__PURE__ */ new Map();
  const used = /* @__PURE__ */ new Set();
  for (const [n, h] of wanted) {
    if (count.get(h) === 1) {
      names.set(n, h);
      used.add(h);
    }
  }
  let k = 0;
  for (const n of boundInOrder) {
    if (names.has(n)) continue;
    let name;
    do
      name = `t${++k}`;
    while (used.has(name) || reserved.has(name));
    names.set(n, name);
    used.add(name);
  }
  const lets = drafts.map(
    (d) => d.kind === "let" ? { kind: "let", node: d.node, name: names.get(d.node) } : { ...d, names: d.nodes.map((n) => n ? names.get(n) : "_") }
  );
  return { roots: [...roots], lets, bound: names };
}
var EPSILON32 = Math.fround(1e-7);
var PI32 = Math.fround(Math.PI);
function shortestDigits(v) {
  const target = Math.fround(v);
  let s = v.toExponential(16);
  for (let p = 1; p <= 17; p++) {
    const t2 = v.toExponential(p - 1);
    if (Math.fround(Number(t2)) === target) {
      s = t2;
      break;
    }
  }
  const [mant, e] = s.split("e");
  const digits = mant.replace(".", "").replace(/0+$/, "") || "0";
  return { digits, exp: Number(e) };
}
function formatNumber(v) {
  if (v === 0) return "0";
  if (Number.isInteger(v) && Math.abs(v) < 1e21 && Math.fround(v) !== v) return String(v);
  const { digits, exp } = shortestDigits(v);
  const n = digits.length;
  let plain;
  if (exp >= n - 1) plain = digits + "0".repeat(exp - n + 1);
  else if (exp < 0) plain = "0." + "0".repeat(-exp - 1) + digits;
  else plain = digits.slice(0, exp + 1) + "." + digits.slice(exp + 1);
  const sci = (n > 1 ? `${digits[0]}.${digits.slice(1)}` : digits) + `e${exp}`;
  return sci.length < plain.length ? sci : plain;
}
function floatText(v) {
  if (Number.isNaN(v)) return "nan";
  if (Object.is(v, -0)) return "-0";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  if (v === EPSILON32) return "epsilon";
  if (v === PI32) return "pi";
  return (v < 0 ? "-" : "") + formatNumber(Math.abs(v));
}
function intText(v) {
  return Object.is(v, -0) ? "0" : String(v);
}
var atom = (...pieces) => ({ prec: PREC.atom, pieces });
function call(name, args, kwargs = []) {
  const pieces = [`${name}(`];
  args.forEach((a, i) => {
    if (i > 0) pieces.push(", ");
    pieces.push(ref(a, PREC.lowest));
  });
  for (const [k, v] of kwargs) pieces.push(`${pieces.length > 1 ? ", " : ""}${k} = ${v}`);
  pieces.push(")");
  return atom(...pieces);
}
function axisText(axis, rank) {
  const a = normAxis2(axis, rank);
  return a === rank - 1 ? "-1" : String(a);
}
function axesText(axes, rank) {
  if (axes.length === rank && axes.every((a, i) => a === i)) return void 0;
  if (axes.length === 1) return axisText(axes[0], rank);
  return `[${axes.join(", ")}]`;
}
var CAST_NAME = { float32: "float", int32: "int", bool: "bool" };
var BINARY_TEXT = {
  add: [" + ", PREC.add],
  sub: [" - ", PREC.add],
  mul: [" * ", PREC.mul],
  div: [" / ", PREC.mul],
  and: [" and ", PREC.and],
  or: [" or ", PREC.or]
};
var COMPARE_TEXT = {
  lt: " < ",
  le: " <= ",
  gt: " > ",
  ge: " >= ",
  eq: " == ",
  ne: " != "
};
function tensorText(values, shape, num = floatText) {
  if (!shape.every((d) => typeof d === "number")) return `[${values.map(num).join(", ")}]`;
  const dims = shape;
  if (dims.length === 0) return num(values[0] ?? 0);
  let level = values.map(num);
  for (let i = dims.length - 1; i >= 0; i--) {
    const d = dims[i];
    const next = [];
    for (let j = 0; j < level.length; j += d) next.push(`[${level.slice(j, j + d).join(", ")}]`);
    if (d === 0) next.push("[]");
    level = next;
  }
  return level[0] ?? "[]";
}
function constText(n) {
  const v = n.attrs.value;
  const dtype = n.attrs.dtype ?? "float32";
  if (dtype === "bool") return atom(v ? "true" : "false");
  if (dtype === "int32") return atom(`int(${intText(v)})`);
  const s = floatText(v);
  return { prec: s.startsWith("-") ? PREC.neg : PREC.atom, pieces: [s] };
}
function isFloatConst(n, value) {
  return n.op === "const" && n.attrs.dtype === void 0 && Object.is(n.attrs.value, value);
}
function renderText(n) {
  const a = n.args;
  const bin = BINARY_TEXT[n.op];
  if (bin) {
    const [op, p] = bin;
    return { prec: p, pieces: [ref(a[0], p), op, ref(a[1], p + 1)] };
  }
  const cmp = COMPARE_TEXT[n.op];
  if (cmp) return { prec: PREC.compare, pieces: [ref(a[0], PREC.add), cmp, ref(a[1], PREC.add)] };
  switch (n.op) {
    case "const":
      return constText(n);
    case "input":
    case "param":
      return atom(n.attrs.name);
    case "tensor":
      return atom(tensorText(n.attrs.values, n.attrs.shape));
    case "neg": {
      const x = a[0];
      if (x.op === "const" && x.attrs.dtype === void 0 && /^\d/.test(floatText(x.attrs.value))) {
        return { prec: PREC.neg, pieces: ["-(", floatText(x.attrs.value), ")"] };
      }
      return { prec: PREC.neg, pieces: ["-", ref(x, PREC.pow)] };
    }
    case "not":
      return { prec: PREC.not, pieces: ["not ", ref(a[0], PREC.not)] };
    case "cast":
      return call(CAST_NAME[n.attrs.dtype], a);
    case "pow":
      return { prec: PREC.pow, pieces: [ref(a[0], PREC.atom), "^", ref(a[1], PREC.neg)] };
    case "maximum":
      return call("max", a);
    case "minimum":
      return call("min", a);
    case "sum":
    case "mean":
    case "max":
    case "min":
    case "logsumexp": {
      const x = a[0];
      const kw = [];
      const ax = axesText(reduceAxes(n.attrs, x.rank), x.rank);
      if (ax !== void 0) kw.push(["axis", ax]);
      if (n.attrs.keepdims === true) kw.push(["keepdims", "true"]);
      return call(n.op, a, kw);
    }
    case "size": {
      const x = a[0];
      const ax = axesText(reduceAxes(n.attrs, x.rank), x.rank);
      return call("size", a, ax === void 0 ? [] : [["axis", ax]]);
    }
    case "indices":
      return call("indices", a, [["axis", String(n.attrs.axis)]]);
    case "broadcast_like": {
      const [x, like] = a;
      if (isFloatConst(x, 0)) return call("zeros_like", [like]);
      if (isFloatConst(x, 1)) return call("ones_like", [like]);
      return call("broadcast_like", a);
    }
    case "expand_dims":
      return call("expand_dims", a, [["axis", axisText(n.attrs.axis, a[0].rank + 1)]]);
    case "squeeze":
      return call("squeeze", a, [["axis", axisText(n.attrs.axis, a[0].rank)]]);
    case "part": {
      const x = a[0];
      return atom(
        "part(",
        ref(x, PREC.lowest),
        `, ${n.attrs.index}, ${n.attrs.parts}, axis = ${axisText(n.attrs.axis, x.rank)})`
      );
    }
    case "concat": {
      const pieces = ["concat(["];
      a.forEach((x, i) => {
        if (i > 0) pieces.push(", ");
        pieces.push(ref(x, PREC.lowest));
      });
      pieces.push(`], axis = ${axisText(n.attrs.axis, a[0].rank)})`);
      return atom(...pieces);
    }
    case "transpose":
      return call("transpose", a, [["perm", `[${n.attrs.perm.join(", ")}]`]]);
    case "one_hot": {
      if (a.length === 2) {
        const ref_ = a[1];
        return atom(
          "one_hot(",
          ref(a[0], PREC.lowest),
          ", size(",
          ref(ref_, PREC.lowest),
          `, axis = ${axisText(n.attrs.axis, ref_.rank)}))`
        );
      }
      return atom("one_hot(", ref(a[0], PREC.lowest), `, ${n.attrs.depth})`);
    }
    default:
      return call(n.op, a);
  }
}
var TEXT_RENDERER = {
  render: renderText,
  name: (s) => s,
  open: "(",
  close: ")"
};
var asRoots = (root) => Array.isArray(root) ? [...root] : [root];
function splitText(l2, bound, r) {
  return `split(${expand(l2.source, PREC.lowest, bound, r)}, ${l2.parts}, axis = ${axisText(l2.axis, l2.source.rank)})`;
}
function letLine(l2) {
  return `let ${l2.destructure ? `[${l2.names.join(", ")}]` : l2.names[0]} = ${l2.text}`;
}
function printBody(root, opts = {}) {
  const roots = asRoots(root);
  const plan = planLets(roots, trivialText, opts);
  const lets = plan.lets.map(
    (l2) => l2.kind === "let" ? { names: [l2.name], destructure: false, text: expand(l2.node, PREC.lowest, plan.bound, TEXT_RENDERER, l2.node) } : { names: l2.names, destructure: true, text: splitText(l2, plan.bound, TEXT_RENDERER) }
  );
  const parts = roots.map((r) => expand(r, PREC.lowest, plan.bound, TEXT_RENDERER));
  let result = Array.isArray(root) ? `[${parts.join(", ")}]` : parts[0];
  if (lets.length > 0 && result.startsWith("-")) result = `(${result})`;
  const text = [...lets.map(letLine), result].join("\n");
  return { lets, result, text };
}

// ../../tmp/scratch/a.ts
var lib = Library.fromSource(`loss t(y_true, y_pred) = mean(-inf + y_pred, axis=-1) + sum(indices(y_pred, axis=-1))`);
var l = lowerDefinition(lib, "t", { symbolic: true });
console.log(printBody(l.value).text);
