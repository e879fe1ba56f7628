// Where each value of a JSON5 text is (line and column, by JSON pointer), and which keys an object repeats:
// json5 parses without either (a repeated key silently keeps the last value). Run on text that JSON5.parse
// accepted, so the scan only needs to find where tokens start and end, not to check them.
import JSON5 from "json5";

export interface Position {
  line: number;
  column: number;
}

export interface Duplicate {
  pointer: string;
  first: Position;
  second: Position;
}

/** `pointerOf("/achievements", "streak_7")` = `/achievements/streak_7` (RFC 6901 escapes). */
export function pointerOf(base: string, ...keys: string[]): string {
  return base + keys.map((key) => "/" + key.replace(/~/g, "~0").replace(/\//g, "~1")).join("");
}

const DELIMITER = /[\s,:[\]{}/"']/;

/** `positions`: where each value starts; `keys`: where each object member's key starts (same pointers). */
export function locateJson5(text: string): { positions: Map<string, Position>; keys: Map<string, Position>; duplicates: Duplicate[] } {
  const positions = new Map<string, Position>();
  const keys = new Map<string, Position>();
  const duplicates: Duplicate[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const here = (): Position => ({ line, column: i - lineStart + 1 });
  const advance = () => {
    if (text[i] === "\n") {
      line += 1;
      lineStart = i + 1;
    }
    i += 1;
  };
  const skipBlank = () => {
    for (;;) {
      if (i < text.length && /\s/.test(text[i])) advance();
      else if (text.startsWith("//", i)) while (i < text.length && text[i] !== "\n") advance();
      else if (text.startsWith("/*", i)) {
        while (i < text.length && !text.startsWith("*/", i)) advance();
        advance();
        advance();
      } else return;
    }
  };
  /** A string literal's raw text (quotes included), from its opening quote. */
  const readString = (): string => {
    const start = i;
    const quote = text[i];
    advance();
    while (i < text.length && text[i] !== quote) {
      if (text[i] === "\\") advance();
      advance();
    }
    advance();
    return text.slice(start, i);
  };
  const readWord = (): string => {
    const start = i;
    while (i < text.length && !DELIMITER.test(text[i])) advance();
    return text.slice(start, i);
  };
  const readKey = (): string => {
    // Quoted or an identifier (which may hold \u escapes): JSON5 itself decodes it.
    const raw = text[i] === '"' || text[i] === "'" ? readString() : readWord();
    return Object.keys(JSON5.parse<Record<string, unknown>>(`{${raw}:0}`))[0];
  };
  const readValue = (pointer: string) => {
    skipBlank();
    positions.set(pointer, here());
    if (text[i] === "{") {
      advance();
      const seen = new Map<string, Position>();
      for (;;) {
        skipBlank();
        if (text[i] === "}") break;
        const at = here();
        const key = readKey();
        const keyPointer = pointerOf(pointer, key);
        const first = seen.get(key);
        if (first) duplicates.push({ pointer: keyPointer, first, second: at });
        seen.set(key, at);
        keys.set(keyPointer, at);
        skipBlank();
        advance(); // :
        readValue(keyPointer);
        skipBlank();
        if (text[i] === ",") advance();
      }
      advance();
    } else if (text[i] === "[") {
      advance();
      for (let index = 0; ; index += 1) {
        skipBlank();
        if (text[i] === "]") break;
        readValue(pointerOf(pointer, String(index)));
        skipBlank();
        if (text[i] === ",") advance();
      }
      advance();
    } else if (text[i] === '"' || text[i] === "'") {
      readString();
    } else {
      readWord();
    }
  };
  readValue("");
  return { positions, keys, duplicates };
}
