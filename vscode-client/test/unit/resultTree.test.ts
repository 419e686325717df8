import assert from "node:assert/strict";
import { it } from "node:test";
import { DirectOwnersAnswer, ObjectJson, anchorDescription, anchorsResult, objectDescription, objectLabel, ownerRows, ownersResult } from "../../src/resultTree";

const DUMP = "file:///w/service.heapdump";
const request: ObjectJson = { address: "0xc000010000", size: 64, name: "main.Request", type: "main.Request", pointers: 2 };
const array: ObjectJson = { address: "0xc000020000", size: 32, name: null, type: "[4]*main.Request", pointers: 4 };

function level(object = request, owners = [{ ...array, field: "[1]", owned: true }]): DirectOwnersAnswer {
  return { address: object.address, object, owners, total_owners: owners.length, roots: [], dump: DUMP };
}

it("owners start at the object, whose first level is the direct owners with the field that points", () => {
  const answer = level();
  const result = ownersResult(answer);
  assert.equal(result.title, "Owners of 0xc000010000");
  assert.equal(result.rows.length, 1);
  const [owner] = ownerRows(answer, []);
  assert.ok(owner.kind === "object");
  assert.equal(objectLabel(owner.object), "[4]*main.Request");
  assert.equal(objectDescription(owner), "0xc000020000 · 32 B · [1]");
  assert.ok(owner.expandsOwners, "held in turn: expandable");
  assert.deepEqual(owner.below, ["0xc000010000"]);
});

it("an owner that is already below in the tree closes a cycle and is not expanded again", () => {
  const answer = level(array, [{ ...request, field: ".Parent", owned: true }]);
  const [owner] = ownerRows(answer, ["0xc000010000"]);
  assert.ok(owner.kind === "object" && !owner.expandsOwners);
});

it("roots, owners left out and nothing at all each get a row", () => {
  const answer: DirectOwnersAnswer = {
    ...level(request, []),
    total_owners: 1500,
    roots: [{ kind: "goroutine", label: "goroutine 18 main.worker frame 3", frame: 3, field: "held" }],
  };
  const rows = ownerRows(answer, []);
  assert.deepEqual(
    rows.map((r) => r.kind),
    ["root", "note"],
  );
  assert.ok(rows[1].kind === "note" && rows[1].text === "… 1,500 more owners");
  assert.deepEqual(ownerRows(level(request, []), []), [{ kind: "note", text: "nothing points at it" }]);
});

it("anchors list each chain from the root down, each link with its type, size and field", () => {
  const anchor = {
    kind: "global",
    name: "main.gReqs",
    label: "global main.gReqs (bss)",
    path: [array.address, request.address],
    fields: ["", "[1]"],
    finalizer_cycle: false,
  };
  const answer = {
    dump: DUMP,
    markdown: "",
    address: request.address,
    object: request,
    anchors: [anchor],
    objects: { [array.address]: array, [request.address]: request },
  };
  const result = anchorsResult(answer);
  assert.equal(result.title, "Anchors of 0xc000010000");
  const row = result.rows[1];
  assert.ok(row.kind === "anchor");
  assert.equal(anchorDescription(row.anchor), "main.gReqs[1] · chain of 2 objects");
  assert.deepEqual(
    row.links.map((l) => (l.kind === "object" ? objectDescription(l) : "")),
    ["0xc000020000 · 32 B", "0xc000010000 · 64 B · [1]"],
  );
  const none = anchorsResult({ ...answer, anchors: [] });
  assert.equal(none.rows[1].kind === "note" && none.rows[1].text, "no anchors: nothing keeps it alive");
});
