// Finding the address a command is about: in a selection, under the cursor, or typed in.
// Pure functions (no vscode API) so they are unit-tested in plain Node.

const HEX_WORD = /0[xX][0-9a-fA-F]+/g;
const MAX_HEX_DIGITS = 16; // a 64-bit address

/** Every hex word (`0x…`) of a line with its start and end columns. */
export function hexWords(line: string): { text: string; start: number; end: number }[] {
  return [...line.matchAll(HEX_WORD)].map((m) => ({
    text: m[0],
    start: m.index,
    end: m.index + m[0].length,
  }));
}

/** The hex word under column `character` of `line` (the cursor may sit just after it). */
export function addressAt(line: string, character: number): string | undefined {
  const word = hexWords(line).find((w) => w.start <= character && character <= w.end);
  return word && isAddress(word.text) ? normalize(word.text) : undefined;
}

/** The address in a selection: its first hex word, e.g. `0xc000123450,` or `p=0xc000…`. */
export function addressInSelection(text: string): string | undefined {
  const word = hexWords(text).find((w) => isAddress(w.text));
  return word ? normalize(word.text) : undefined;
}

/** Why `input` (typed in an input box) is not an address, or undefined when it is one. */
export function addressProblem(input: string): string | undefined {
  const text = input.trim();
  if (text === "") {
    return "Type an address such as 0xc000123450";
  }
  if (!/^0[xX][0-9a-fA-F]+$/.test(text)) {
    return `"${text}" is not a hex address (0x followed by hex digits)`;
  }
  if (!isAddress(text)) {
    return `"${text}" has more than ${MAX_HEX_DIGITS} hex digits: not a 64-bit address`;
  }
  return undefined;
}

export function isAddress(word: string): boolean {
  const digits = word.slice(2).replace(/^0+/, "");
  return /^0[xX][0-9a-fA-F]+$/.test(word) && digits.length <= MAX_HEX_DIGITS;
}

/** `0X00C0…` → `0xc0…`, the form the server prints. */
export function normalize(word: string): string {
  const digits = word.slice(2).replace(/^0+/, "").toLowerCase();
  return `0x${digits || "0"}`;
}
