"""The record layout of the ``go1.7 heap dump`` format (``src/runtime/heapdump.go``).

Every record starts with a uvarint tag; its fields follow as a sequence of items:

* ``U``: a uvarint,
* ``S``: a length-prefixed byte string,
* ``F``: a field list (``kind, offset`` pairs ended by kind 0) describing pointer slots,
* ``R``: ``nstk`` stack entries of a memory-profile bucket (``S S U`` each), ``nstk`` being
  the uvarint just before it.

One table drives both the compiled walk (:mod:`.walk`) and the record decoder
(:mod:`.records`), so the two cannot disagree.
"""

import numpy as np

HEADER = b"go1.7 heap dump\n"

TAG_EOF = 0
TAG_OBJECT = 1
TAG_OTHER_ROOT = 2
TAG_TYPE = 3
TAG_GOROUTINE = 4
TAG_STACK_FRAME = 5
TAG_PARAMS = 6
TAG_FINALIZER = 7
TAG_ITAB = 8
TAG_OS_THREAD = 9
TAG_MEMSTATS = 10
TAG_QUEUED_FINALIZER = 11
TAG_DATA = 12
TAG_BSS = 13
TAG_DEFER = 14
TAG_PANIC = 15
TAG_MEMPROF = 16
TAG_ALLOC_SAMPLE = 17

FIELD_EOL = 0
FIELD_PTR = 1
FIELD_IFACE = 2  # older runtimes: two words, the second is the pointer
FIELD_EFACE = 3

MEMSTATS_NAMES = [
    "Alloc",
    "TotalAlloc",
    "Sys",
    "Lookups",
    "Mallocs",
    "Frees",
    "HeapAlloc",
    "HeapSys",
    "HeapIdle",
    "HeapInuse",
    "HeapReleased",
    "HeapObjects",
    "StackInuse",
    "StackSys",
    "MSpanInuse",
    "MSpanSys",
    "MCacheInuse",
    "MCacheSys",
    "BuckHashSys",
    "GCSys",
    "OtherSys",
    "NextGC",
    "LastGC",
    "PauseTotalNs",
]
MEMSTATS_COUNT = len(MEMSTATS_NAMES) + 256 + 1  # ... PauseNs[256], NumGC

# tag -> (record name, item sequence, names of the items)
LAYOUT: dict[int, tuple[str, str, tuple[str, ...]]] = {
    TAG_EOF: ("EOF", "", ()),
    TAG_OBJECT: ("Object", "USF", ("address", "contents", "fields")),
    TAG_OTHER_ROOT: ("OtherRoot", "SU", ("description", "pointer")),
    TAG_TYPE: ("TypeDescriptor", "UUSU", ("address", "size", "name", "indirect")),
    TAG_GOROUTINE: (
        "Goroutine",
        "UUUUUUUUSUUUU",
        (
            "address",
            "sp",
            "goid",
            "gopc",
            "status",
            "system",
            "background",
            "waitsince",
            "waitreason",
            "ctxt",
            "m",
            "defer",
            "panic",
        ),
    ),
    TAG_STACK_FRAME: (
        "StackFrame",
        "UUUSUUUSF",
        ("sp", "depth", "child_sp", "contents", "entry_pc", "pc", "continue_pc", "name", "fields"),
    ),
    TAG_PARAMS: (
        "DumpParams",
        "UUUUSSU",
        ("big_endian", "pointer_size", "heap_start", "heap_end", "arch", "go_version", "ncpu"),
    ),
    TAG_FINALIZER: (
        "RegisteredFinalizer",
        "UUUUU",
        ("object", "funcval", "fn", "fint", "object_type"),
    ),
    TAG_ITAB: ("Itab", "UU", ("address", "type")),
    TAG_OS_THREAD: ("OSThread", "UUU", ("address", "id", "procid")),
    TAG_MEMSTATS: ("MemStats", "U" * MEMSTATS_COUNT, ()),
    TAG_QUEUED_FINALIZER: (
        "QueuedFinalizer",
        "UUUUU",
        ("object", "funcval", "fn", "fint", "object_type"),
    ),
    TAG_DATA: ("DataSegment", "USF", ("address", "contents", "fields")),
    TAG_BSS: ("BssSegment", "USF", ("address", "contents", "fields")),
    TAG_DEFER: ("Defer", "UUUUUUU", ("address", "goroutine", "sp", "pc", "funcval", "fn", "link")),
    TAG_PANIC: ("Panic", "UUUUUU", ("address", "goroutine", "type", "data", "defer", "link")),
    TAG_MEMPROF: ("MemProf", "UUURUU", ("bucket", "size", "nstk", "stack", "allocs", "frees")),
    TAG_ALLOC_SAMPLE: ("AllocSample", "UU", ("object", "bucket")),
}
MAX_TAG = max(LAYOUT)

ITEM_CODES = {"U": 1, "S": 2, "F": 3, "R": 4}
MAX_ITEMS = max(len(seq) for tag, (_, seq, _) in LAYOUT.items() if tag != TAG_MEMSTATS)


def layout_table() -> tuple[np.ndarray, np.ndarray]:
    """The layout as arrays for the compiled walk: ``(codes[tag, i], lengths[tag])``.

    Memstats is encoded as its count of uvarints (code 1 repeated) via ``lengths``.
    """
    codes = np.zeros((MAX_TAG + 1, MAX_ITEMS), dtype=np.int64)
    lengths = np.full(MAX_TAG + 1, -1, dtype=np.int64)
    for tag, (_, seq, _) in LAYOUT.items():
        if tag == TAG_MEMSTATS:
            codes[tag, 0] = ITEM_CODES["U"]
            lengths[tag] = MEMSTATS_COUNT  # special: one code, repeated
            continue
        for i, item in enumerate(seq):
            codes[tag, i] = ITEM_CODES[item]
        lengths[tag] = len(seq)
    return codes, lengths
