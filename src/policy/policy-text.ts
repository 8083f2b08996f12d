/**
 * Facts about a policy's JSON text that the compiled form no longer has, for policy simulation: where each
 * statement sits in the text (MatchedStatements' StartPosition/EndPosition) and the condition keys as written
 * (GetContextKeysFor*Policy, MissingContextValues). Pure; the text has already been parsed and validated.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_Statement.html
 */
import { parsePolicy } from './parse.js';
import { hasVariable, parseTemplate } from './variables.js';

/** A place in the text: 1-based line and 1-based column (UTF-16 units), as IAM's Position. */
export type TextPosition = { readonly Line: number; readonly Column: number };

/**
 * The span of each statement, in document order (one span for a `Statement` that is a single object).
 * Start is the statement's opening `{`; end is the column just past its closing `}` (AWS does not document
 * the convention; this is the reading of its examples where a statement indented by two spaces ends at column 4).
 * Empty when the text is not JSON or has no `Statement` member.
 */
export function statementPositions(text: string): Array<{ start: TextPosition; end: TextPosition }> {
  try {
    const scanner = new Scanner(text);
    return scanner.statementSpans();
  } catch {
    return [];
  }
}

/**
 * The context keys a policy reads, as first written, without duplicates (key names are case-insensitive): its
 * condition keys and, in `2012-10-17` policies, the keys of its policy variables. Empty for text that does not parse.
 */
export function contextKeyNames(text: string): string[] {
  const parsed = parsePolicy(text);
  if (!parsed.document) return [];
  const variables = parsed.document.Version === '2012-10-17';
  const names = new Map<string, string>();
  const add = (name: string) => {
    if (!names.has(name.toLowerCase())) names.set(name.toLowerCase(), name);
  };
  const addVariables = (values: readonly string[] | undefined) => {
    if (!variables || !values) return;
    for (const value of values) {
      if (!hasVariable(value)) continue;
      for (const part of parseTemplate(value)) if (part.kind === 'variable') add(writtenVariable(value, part.key));
    }
  };
  for (const statement of parsed.document.Statement) {
    addVariables(statement.Resource);
    addVariables(statement.NotResource);
    for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
      for (const [key, values] of Object.entries(keys)) {
        add(key);
        if (operator.includes('String') || operator.includes('Arn')) addVariables(values);
      }
    }
  }
  return [...names.values()];
}

/** The variable's key as the text spells it (the template keeps it lower-cased). */
function writtenVariable(value: string, lowerKey: string): string {
  const at = value.toLowerCase().indexOf(lowerKey);
  return at < 0 ? lowerKey : value.slice(at, at + lowerKey.length);
}

/** A minimal JSON scanner that knows where it is; it reads only as far as the top-level `Statement` member. */
class Scanner {
  readonly #text: string;
  #index = 0;
  #line = 1;
  #lineStart = 0;

  constructor(text: string) {
    this.#text = text;
  }

  statementSpans(): Array<{ start: TextPosition; end: TextPosition }> {
    this.#skipSpace();
    this.#expect('{');
    for (;;) {
      this.#skipSpace();
      if (this.#peek() === '}') return [];
      const name = this.#string();
      this.#skipSpace();
      this.#expect(':');
      this.#skipSpace();
      if (name === 'Statement') return this.#peek() === '[' ? this.#arraySpans() : [this.#span()];
      this.#value();
      this.#skipSpace();
      if (this.#peek() === ',') this.#advance();
    }
  }

  #arraySpans(): Array<{ start: TextPosition; end: TextPosition }> {
    const spans: Array<{ start: TextPosition; end: TextPosition }> = [];
    this.#expect('[');
    for (;;) {
      this.#skipSpace();
      if (this.#peek() === ']') return spans;
      spans.push(this.#span());
      this.#skipSpace();
      if (this.#peek() === ',') this.#advance();
    }
  }

  #span(): { start: TextPosition; end: TextPosition } {
    const start = this.#position();
    this.#value();
    return { start, end: this.#position() };
  }

  #position(): TextPosition {
    return { Line: this.#line, Column: this.#index - this.#lineStart + 1 };
  }

  #value(): void {
    const char = this.#peek();
    if (char === '"') {
      this.#string();
      return;
    }
    if (char === '{' || char === '[') {
      const close = char === '{' ? '}' : ']';
      this.#advance();
      for (;;) {
        this.#skipSpace();
        if (this.#peek() === close) {
          this.#advance();
          return;
        }
        if (char === '{') {
          this.#string();
          this.#skipSpace();
          this.#expect(':');
          this.#skipSpace();
        }
        this.#value();
        this.#skipSpace();
        if (this.#peek() === ',') this.#advance();
      }
    }
    // A number, true, false or null: up to the next delimiter.
    if (this.#index >= this.#text.length) throw new Error('end of text');
    while (this.#index < this.#text.length && !/[\s,\]}]/.test(this.#peek())) this.#advance();
  }

  #string(): string {
    this.#expect('"');
    const from = this.#index;
    while (this.#peek() !== '"') {
      if (this.#index >= this.#text.length) throw new Error('unterminated string');
      if (this.#peek() === '\\') this.#advance();
      this.#advance();
    }
    const raw = this.#text.slice(from, this.#index);
    this.#advance();
    return JSON.parse(`"${raw}"`) as string;
  }

  #skipSpace(): void {
    while (this.#index < this.#text.length && /\s/.test(this.#peek())) this.#advance();
  }

  #expect(char: string): void {
    if (this.#peek() !== char) throw new Error(`expected ${char}`);
    this.#advance();
  }

  #peek(): string {
    return this.#text[this.#index] ?? '';
  }

  #advance(): void {
    if (this.#text[this.#index] === '\n') {
      this.#line += 1;
      this.#lineStart = this.#index + 1;
    }
    this.#index += 1;
  }
}
