"""heapspurs: why is this Go object still alive?

Reads heap dumps written by ``runtime/debug.WriteHeapDump`` into flat columns
(:mod:`heapspurs.dumpfile`), models the heap (:mod:`heapspurs.heap`), names things
(:mod:`heapspurs.names`), answers questions (:mod:`heapspurs.analysis`) and renders the
answers (:mod:`heapspurs.render`).
"""

__version__ = "0.1.0"
