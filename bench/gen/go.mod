module heapspurs/bench/gen

go 1.21
