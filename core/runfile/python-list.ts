/**
 * test-runner.py turns the `tests` and `tags` values into lists with Python's `eval()`. Upstream only
 * ever writes a list of single-quoted strings, possibly over several lines and with a trailing comma,
 * so this reads the subset of Python literal syntax such a value can use: a list or tuple of string
 * literals ('…' or "…", optional r/u prefix, backslash escapes, implicit concatenation of adjacent
 * literals), whitespace, newlines and `#` comments. Anything else is rejected rather than guessed.
 */

export class PythonListError extends Error {
  override name = 'PythonListError';
}

export function parsePythonStringList(text: string): string[] {
  const reader = new ListReader(text);
  return reader.readWholeList();
}

/**
 * Renders a list the way upstream writes it: `['a', 'b',` then 4-space continuation lines, wrapping
 * before `width` columns. `firstLinePrefix` is what precedes the `[` on the first line (`tests = `).
 */
export function renderPythonStringList(items: readonly string[], firstLinePrefix: string, width = 79): string {
  if (items.length === 0) return '[]';
  const lines: string[] = [];
  let line = '[';
  let lineStartColumn = firstLinePrefix.length;
  let lineHasItem = false;
  items.forEach((item, index) => {
    const token = quotePythonString(item) + (index === items.length - 1 ? ']' : ',');
    const extended = lineHasItem ? `${line} ${token}` : line + token;
    if (lineHasItem && lineStartColumn + extended.length > width) {
      lines.push(line);
      line = CONTINUATION + token;
      lineStartColumn = 0;
    } else {
      line = extended;
    }
    lineHasItem = true;
  });
  lines.push(line);
  return lines.join('\n');
}

const CONTINUATION = '    ';

export function quotePythonString(value: string): string {
  let out = "'";
  for (const ch of value) {
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += ch;
  }
  return out + "'";
}

class ListReader {
  private pos = 0;
  constructor(private readonly text: string) {}

  readWholeList(): string[] {
    this.skipBlank();
    const open = this.text[this.pos];
    if (open !== '[' && open !== '(') throw this.error("expected a list like ['a', 'b']");
    const close = open === '[' ? ']' : ')';
    this.pos++;
    const items: string[] = [];
    let sawComma = false;
    for (;;) {
      this.skipBlank();
      if (this.text[this.pos] === close) {
        this.pos++;
        break;
      }
      if (items.length > 0 && !sawComma) throw this.error(`expected ',' or '${close}'`);
      items.push(this.readConcatenatedString());
      this.skipBlank();
      sawComma = this.text[this.pos] === ',';
      if (sawComma) this.pos++;
    }
    // A parenthesised single item without a comma is a string in Python, not a tuple.
    if (open === '(' && items.length === 1 && !sawComma) throw this.error('a parenthesised string is not a list');
    this.skipBlank();
    if (this.pos < this.text.length) throw this.error('unexpected text after the list');
    return items;
  }

  private readConcatenatedString(): string {
    let value = this.readString();
    for (;;) {
      const save = this.pos;
      this.skipBlank();
      if (this.atStringStart()) value += this.readString();
      else {
        this.pos = save;
        return value;
      }
    }
  }

  private atStringStart(): boolean {
    const rest = this.text.slice(this.pos, this.pos + 3);
    return /^(?:[rRuU]?['"])/.test(rest);
  }

  private readString(): string {
    let raw = false;
    const prefix = this.text[this.pos];
    if (prefix === 'r' || prefix === 'R') {
      raw = true;
      this.pos++;
    } else if (prefix === 'u' || prefix === 'U') this.pos++;
    const quote = this.text[this.pos];
    if (quote !== "'" && quote !== '"') throw this.error('expected a quoted string');
    if (this.text.startsWith(quote.repeat(3), this.pos)) throw this.error('triple-quoted strings are not supported');
    this.pos++;
    let out = '';
    for (;;) {
      const ch = this.text[this.pos];
      if (ch === undefined || ch === '\n') throw this.error('unterminated string');
      this.pos++;
      if (ch === quote) return out;
      if (ch !== '\\') {
        out += ch;
        continue;
      }
      const next = this.text[this.pos];
      if (next === undefined) throw this.error('unterminated string');
      this.pos++;
      if (raw) {
        out += '\\' + next;
        continue;
      }
      out += this.decodeEscape(next);
    }
  }

  private decodeEscape(code: string): string {
    switch (code) {
      case '\n':
        return '';
      case '\\':
      case "'":
      case '"':
        return code;
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case 'a':
        return '\x07';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'v':
        return '\v';
      case 'x':
        return this.readHexEscape(2);
      case 'u':
        return this.readHexEscape(4);
      case 'U':
        return this.readHexEscape(8);
      default:
        if (/[0-7]/.test(code)) {
          let digits = code;
          while (digits.length < 3 && /[0-7]/.test(this.text[this.pos] ?? '')) digits += this.text[this.pos++];
          return String.fromCodePoint(parseInt(digits, 8));
        }
        // Python keeps unknown escapes as written.
        return '\\' + code;
    }
  }

  private readHexEscape(length: number): string {
    const digits = this.text.slice(this.pos, this.pos + length);
    if (!new RegExp(`^[0-9a-fA-F]{${length}}$`).test(digits)) throw this.error('bad \\x/\\u escape');
    this.pos += length;
    return String.fromCodePoint(parseInt(digits, 16));
  }

  private skipBlank(): void {
    for (;;) {
      const ch = this.text[this.pos];
      if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f') this.pos++;
      else if (ch === '\\' && this.text[this.pos + 1] === '\n') this.pos += 2;
      else if (ch === '#') {
        while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.pos++;
      } else return;
    }
  }

  private error(problem: string): PythonListError {
    return new PythonListError(`${problem} at offset ${this.pos} in ${JSON.stringify(this.text.slice(0, 60))}`);
  }
}
