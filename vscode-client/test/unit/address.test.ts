import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addressAt, addressInSelection, addressProblem, hexWords, normalize } from "../../src/address";

const LOG = "2026/11/26 leak? cache entry p=0xc000123450, next 0x21B505F4A078 (size 32)";

describe("addressAt: the hex word under the cursor", () => {
  it("finds the word when the cursor is at its start, inside it and just after it", () => {
    const start = LOG.indexOf("0xc000123450");
    for (const column of [start, start + 1, start + 5, start + "0xc000123450".length]) {
      assert.equal(addressAt(LOG, column), "0xc000123450", `column ${column}`);
    }
  });

  it("normalises upper-case digits to the server's lower-case form", () => {
    assert.equal(addressAt(LOG, LOG.indexOf("0x21B5") + 4), "0x21b505f4a078");
  });

  it("finds nothing on plain text or on a decimal number", () => {
    assert.equal(addressAt(LOG, 3), undefined);
    assert.equal(addressAt(LOG, LOG.indexOf("32")), undefined);
  });

  it("refuses words longer than a 64-bit address", () => {
    const line = "x 0x1234567890abcdef1 y";
    assert.equal(addressAt(line, 4), undefined);
  });
});

describe("addressInSelection", () => {
  it("takes the first address in a selection with punctuation around it", () => {
    assert.equal(addressInSelection("p=0xc000123450,"), "0xc000123450");
    assert.equal(addressInSelection("  0xC0001234  and 0xc0005678"), "0xc0001234");
  });

  it("finds nothing in a selection without an address", () => {
    assert.equal(addressInSelection("cache entry"), undefined);
  });
});

describe("addressProblem: validating a typed address", () => {
  it("accepts hex addresses with surrounding blanks", () => {
    assert.equal(addressProblem(" 0xc000123450 "), undefined);
    assert.equal(addressProblem("0x0000c000123450"), undefined);
  });

  it("says why other input is refused", () => {
    assert.match(addressProblem("") ?? "", /Type an address/);
    assert.match(addressProblem("c000123450") ?? "", /not a hex address/);
    assert.match(addressProblem("0xg00") ?? "", /not a hex address/);
    assert.match(addressProblem("0x1234567890abcdef12") ?? "", /64-bit/);
  });
});

describe("hexWords and normalize", () => {
  it("lists every hex word with its columns", () => {
    const words = hexWords(LOG);
    assert.deepEqual(
      words.map((w) => w.text),
      ["0xc000123450", "0x21B505F4A078"],
    );
    assert.equal(LOG.slice(words[1].start, words[1].end), "0x21B505F4A078");
  });

  it("drops leading zeros but keeps zero itself", () => {
    assert.equal(normalize("0X000ABC"), "0xabc");
    assert.equal(normalize("0x0000"), "0x0");
  });
});
