// The grammar's one door to chevrotain. In dist/ this module is replaced by a bundle of itself
// with chevrotain and lodash-es inside (scripts/bundle.mjs): Node loads chevrotain as some 600
// modules otherwise, which took 250-300 ms and 30 MiB; as one module it takes about 10 ms.
export { createToken, CstParser, EOF, Lexer } from 'chevrotain';
export type { CstNode, IParserErrorMessageProvider, IRecognitionException, IToken, TokenType } from 'chevrotain';
