// The rows of the results view (anchors, owners level by level, not-an-object answers) made
// from the server's answers. Pure functions (no vscode API), unit-tested in plain Node.

import { CommandAnswer, NotAnObject } from "./protocol";

/** An object as the server describes it (the CLI's JSON `object`). */
export interface ObjectJson {
  address: string;
  size: number;
  name: string | null;
  type: string | null;
  pointers?: number;
}

/** A root as the server describes it (anchors, heapspurs/directOwners `roots`). */
export interface RootJson {
  kind: string;
  name?: string;
  label: string;
  goroutine?: number;
  function?: string;
  frame?: number;
  field?: string;
}

/** heapspurs/directOwners: one level of owners. */
export interface DirectOwnersAnswer {
  address: string;
  object: ObjectJson;
  owners: (ObjectJson & { field: string; owned: boolean })[];
  total_owners: number;
  roots: RootJson[];
  dump: string;
}

interface AnchorJson extends RootJson {
  path: string[];
  fields: string[];
  finalizer_cycle: boolean;
}

/**
 * A row. An object row carries `address` and `dump` at the top, the arguments the address
 * commands take, so that its inline and context-menu actions run them on it as they are.
 */
export type ResultRow =
  | {
      kind: "object";
      address: string;
      dump: string;
      object: ObjectJson;
      /** The selector that links it to its parent row (owners: in it; anchors: to it). */
      field?: string;
      /** Owners rows: expanding asks the server for this object's owners. */
      expandsOwners: boolean;
      /** Addresses on the way up from the target: an owner among them closes a cycle. */
      below: string[];
    }
  | { kind: "root"; root: RootJson; dump: string }
  | { kind: "anchor"; anchor: AnchorJson; dump: string; links: ResultRow[] }
  | { kind: "note"; text: string; detail?: string };

/** A result: the view's title and its top rows. */
export interface Result {
  title: string;
  dump?: string;
  rows: ResultRow[];
}

/** Chain links listed under an anchor at most (the server describes the first 500). */
export const LINKS_SHOWN = 500;

const bytes = (n: number) => `${n.toLocaleString("en-US")} B`;

/** What a row says about an object: its type (else its OID name) and size, then the field. */
export function objectLabel(object: ObjectJson): string {
  return object.type ?? object.name ?? "object";
}

export function objectDescription(row: Extract<ResultRow, { kind: "object" }>): string {
  const parts = [row.address, bytes(row.object.size)];
  if (row.object.name && row.object.name !== row.object.type) {
    parts.splice(1, 0, row.object.name);
  }
  if (row.field) {
    parts.push(row.field);
  }
  return parts.join(" · ");
}

/** An object row; `below` are the addresses between it and the result's target. */
export function objectRow(object: ObjectJson, dump: string, expandsOwners: boolean, field?: string, below: string[] = []): ResultRow {
  return { kind: "object", address: object.address, dump, object, field: field || undefined, expandsOwners, below };
}

/** The owners result: the target, expanded on demand one level at a time. */
export function ownersResult(answer: DirectOwnersAnswer): Result {
  return {
    title: `Owners of ${answer.address}`,
    dump: answer.dump,
    rows: [objectRow(answer.object, answer.dump, true)],
  };
}

/** The rows under an owners row: its owners (a cycle back down is not expanded), its roots. */
export function ownerRows(answer: DirectOwnersAnswer, below: string[]): ResultRow[] {
  const path = [...below, answer.object.address];
  const rows: ResultRow[] = answer.owners.map((owner) =>
    objectRow(owner, answer.dump, owner.owned && !path.includes(owner.address), owner.field, path),
  );
  rows.push(...answer.roots.map((root): ResultRow => ({ kind: "root", root, dump: answer.dump })));
  if (answer.total_owners > answer.owners.length) {
    rows.push({ kind: "note", text: `… ${(answer.total_owners - answer.owners.length).toLocaleString("en-US")} more owners` });
  }
  if (rows.length === 0) {
    rows.push({ kind: "note", text: "nothing points at it" });
  }
  return rows;
}

/** The anchors result: the object, then each anchor with its chain from the root down. */
export function anchorsResult(answer: CommandAnswer): Result {
  const objects = (answer.objects ?? {}) as Record<string, ObjectJson>;
  const target = answer.object as ObjectJson;
  const anchors = (answer.anchors ?? []) as AnchorJson[];
  const rows: ResultRow[] = [objectRow(target, answer.dump, false)];
  for (const anchor of anchors) {
    const links = anchor.path.slice(0, LINKS_SHOWN).map((address, i) => {
      const object = objects[address] ?? { address, size: 0, name: null, type: null };
      return objectRow(object, answer.dump, false, anchor.fields[i]);
    });
    if (anchor.path.length > LINKS_SHOWN) {
      links.push({ kind: "note", text: `… ${(anchor.path.length - LINKS_SHOWN).toLocaleString("en-US")} more objects` });
    }
    rows.push({ kind: "anchor", anchor, dump: answer.dump, links });
  }
  if (anchors.length === 0) {
    rows.push(noAnchorsNote(answer));
  }
  return { title: `Anchors of ${String(answer.address)}`, dump: answer.dump, rows };
}

function noAnchorsNote(answer: CommandAnswer): ResultRow {
  if (answer.phantom) {
    return { kind: "note", text: "no anchors: a free slot of a span (dead)" };
  }
  return { kind: "note", text: "no anchors: nothing keeps it alive", detail: "unreachable from every root" };
}

/** An anchor row's description: how many objects its chain has, and a finalizer cycle. */
export function anchorDescription(anchor: AnchorJson): string {
  const n = anchor.path.length;
  const chain = `chain of ${n.toLocaleString("en-US")} object${n === 1 ? "" : "s"}`;
  const goPath = (anchor.kind === "global" ? (anchor.name ?? "") : "") + anchor.fields.join("");
  return [goPath, chain, anchor.finalizer_cycle ? "finalizer cycle" : ""].filter(Boolean).join(" · ");
}

/** A root row's description: the variable (or global) that holds the object. */
export function rootDescription(root: RootJson): string {
  return root.field ? `holds it in ${root.field}` : "";
}

/** An address that is no heap object: what it is, as the result. */
export function notAnObjectResult(kind: string, found: NotAnObject): Result {
  return {
    title: `${kind[0].toUpperCase()}${kind.slice(1)} of ${found.address}`,
    rows: [
      { kind: "note", text: `${found.address} is not a heap object, so it has no ${kind}` },
      ...found.places.map((place): ResultRow => ({ kind: "note", text: place.what, detail: place.name })),
    ],
  };
}
