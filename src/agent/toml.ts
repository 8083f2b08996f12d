/**
 * The part of TOML (https://toml.io/en/v1.0.0) a Secrets Manager Agent configuration file uses: top-level
 * `key = value` lines with strings (basic "..." and literal '...'), integers, booleans and arrays of those
 * (which may span lines), and # comments. Anything else (tables, dates, floats, inline tables) is refused
 * with the line it is on, so a file is never half understood.
 */
export type TomlValue = string | number | boolean | TomlValue[];

export class TomlError extends Error {
  constructor(message: string, line: number) {
    super(`line ${line}: ${message}`);
    this.name = 'TomlError';
  }
}

export function parseToml(text: string): Record<string, TomlValue> {
  const parser = new Parser(text);
  return parser.document();
}

class Parser {
  #text: string;
  #at = 0;

  constructor(text: string) {
    this.#text = text.replace(/^\uFEFF/, '');
  }

  document(): Record<string, TomlValue> {
    const result: Record<string, TomlValue> = Object.create(null);
    for (;;) {
      this.#skipBlankLines();
      if (this.#at >= this.#text.length) return result;
      if (this.#peek() === '[') this.#fail('tables are not supported in this configuration file');
      const key = this.#key();
      this.#skipSpaces();
      if (this.#peek() !== '=') this.#fail(`expected = after ${key}`);
      this.#at += 1;
      this.#skipSpaces();
      const value = this.#value();
      if (Object.hasOwn(result, key)) this.#fail(`${key} is set twice`);
      result[key] = value;
      this.#skipSpaces();
      this.#skipComment();
      if (this.#at < this.#text.length && !this.#atNewline()) this.#fail('expected the end of the line');
    }
  }

  #key(): string {
    const quote = this.#peek();
    if (quote === '"' || quote === "'") return this.#string();
    const match = /^[A-Za-z0-9_-]+/.exec(this.#text.slice(this.#at));
    if (!match) this.#fail('expected a key');
    this.#at += match[0].length;
    if (this.#peek() === '.') this.#fail('dotted keys are not supported in this configuration file');
    return match[0];
  }

  #value(): TomlValue {
    const next = this.#peek();
    if (next === '"' || next === "'") return this.#string();
    if (next === '[') return this.#array();
    const rest = this.#text.slice(this.#at);
    const word = /^(true|false)(?![A-Za-z0-9_])/.exec(rest);
    if (word) {
      this.#at += word[1]!.length;
      return word[1] === 'true';
    }
    const integer = /^[+-]?(0|[1-9](_?[0-9])*)(?![0-9A-Za-z_.:])/.exec(rest);
    if (integer) {
      this.#at += integer[0].length;
      const value = Number(integer[0].replaceAll('_', ''));
      if (!Number.isSafeInteger(value)) this.#fail('integer out of range');
      return value;
    }
    this.#fail('expected a string, an integer, a boolean or an array');
  }

  #array(): TomlValue[] {
    this.#at += 1;
    const items: TomlValue[] = [];
    for (;;) {
      this.#skipWhitespaceAndComments();
      if (this.#peek() === ']') {
        this.#at += 1;
        return items;
      }
      items.push(this.#value());
      this.#skipWhitespaceAndComments();
      if (this.#peek() === ',') {
        this.#at += 1;
        continue;
      }
      if (this.#peek() === ']') continue;
      this.#fail('expected , or ] in an array');
    }
  }

  #string(): string {
    const quote = this.#peek();
    if (this.#text.startsWith(quote.repeat(3), this.#at)) this.#fail('multi-line strings are not supported in this configuration file');
    this.#at += 1;
    let value = '';
    for (;;) {
      const char = this.#text[this.#at];
      if (char === undefined || char === '\n') this.#fail('unterminated string');
      this.#at += 1;
      if (char === quote) return value;
      if (char === '\\' && quote === '"') value += this.#escape();
      else value += char;
    }
  }

  #escape(): string {
    const char = this.#text[this.#at];
    this.#at += 1;
    const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };
    if (char !== undefined && simple[char] !== undefined) return simple[char];
    if (char === 'u' || char === 'U') {
      const length = char === 'u' ? 4 : 8;
      const hex = this.#text.slice(this.#at, this.#at + length);
      if (!new RegExp(`^[0-9A-Fa-f]{${length}}$`).test(hex)) this.#fail('bad unicode escape');
      this.#at += length;
      return String.fromCodePoint(parseInt(hex, 16));
    }
    this.#fail('bad escape in a string');
  }

  #peek(): string {
    return this.#text[this.#at] ?? '';
  }

  #atNewline(): boolean {
    return this.#peek() === '\n' || this.#text.startsWith('\r\n', this.#at);
  }

  #skipSpaces(): void {
    while (this.#peek() === ' ' || this.#peek() === '\t') this.#at += 1;
  }

  #skipComment(): void {
    if (this.#peek() !== '#') return;
    while (this.#at < this.#text.length && !this.#atNewline()) this.#at += 1;
  }

  #skipBlankLines(): void {
    for (;;) {
      this.#skipSpaces();
      this.#skipComment();
      if (this.#peek() === '\n') this.#at += 1;
      else if (this.#text.startsWith('\r\n', this.#at)) this.#at += 2;
      else return;
    }
  }

  #skipWhitespaceAndComments(): void {
    this.#skipBlankLines();
  }

  #fail(message: string): never {
    const line = this.#text.slice(0, this.#at).split('\n').length;
    throw new TomlError(message, line);
  }
}
