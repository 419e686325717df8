import assert from "node:assert/strict";
import { it } from "node:test";
import { addressOfNodeId } from "../../src/webviewMessages";

it("maps object node ids to addresses and nothing else", () => {
  assert.equal(addressOfNodeId("obj_0x21b505f4a000"), "0x21b505f4a000");
  assert.equal(addressOfNodeId("root_3"), undefined);
  assert.equal(addressOfNodeId("obj_0x21b5<script>"), undefined);
});
