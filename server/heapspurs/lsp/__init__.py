"""The heapspurs language server (``heapspurs-lsp``)."""
