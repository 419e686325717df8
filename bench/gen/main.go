// Command gen builds a heap of a chosen shape and size and writes a Go heap
// dump of it (runtime/debug.WriteHeapDump), plus a JSON info file describing
// the heap, for benchmarking heapspurs.
//
//	gen -shape random|tree|list -n N [-extra E] [-seed S] -dump PATH -info PATH
//	    [-dump2 PATH [-mutate F]]
//
// With -dump2 the same process then mutates the graph and writes a second dump: F·n
// new nodes (default 0.1) each replace the target of a pointer slot of a random node, so
// the old targets that were only reachable through those slots are freed.
//
// Every node is a separate heap allocation (new(Node)) of 48 bytes. The only
// thing keeping the nodes alive at dump time is the global main.gRoot.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"runtime/debug"
	"time"
	"unsafe"
)

// OidMarker is stored in the first word of every node so that node objects
// can be recognised in the dump.
const OidMarker uint64 = 0xcaffe14e00000001

const fanout = 4 // 8 (Oid) + 8 (id) + 4*8 (edges) = 48 bytes

// Node is one benchmark heap object.
type Node struct {
	Oid   uint64
	id    int
	edges [fanout]*Node
}

// gRoot is the only root that keeps the generated heap alive.
var gRoot *Node

// Info is written as JSON to the -info path.
type Info struct {
	Shape         string   `json:"shape"`
	N             int      `json:"n"`
	ExtraEdges    int      `json:"extra_edges"`
	Seed          int64    `json:"seed"`
	GoVersion     string   `json:"go_version"`
	Root          string   `json:"root"`
	Farthest      string   `json:"farthest"`
	FarthestDepth int      `json:"farthest_depth"`
	Sample        []string `json:"sample"`
	Edges         int      `json:"edges"`
	NodeSize      int      `json:"node_size"`
	Oid           string   `json:"oid"`
	DumpBytes     int64    `json:"dump_bytes"`
	Mutated       int      `json:"mutated,omitempty"`
	Dump2Bytes    int64    `json:"dump2_bytes,omitempty"`
}

func addr(p *Node) string {
	return fmt.Sprintf("0x%x", uintptr(unsafe.Pointer(p)))
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gen: "+format+"\n", args...)
}

// addEdge stores v in the first free slot of u; it reports false if u is full.
func addEdge(u, v *Node) bool {
	for k := range u.edges {
		if u.edges[k] == nil {
			u.edges[k] = v
			return true
		}
	}
	return false
}

func full(u *Node) bool { return u.edges[fanout-1] != nil }

func allocNodes(n int) []*Node {
	nodes := make([]*Node, n)
	for i := range nodes {
		p := new(Node)
		p.Oid = OidMarker
		p.id = i
		nodes[i] = p
	}
	return nodes
}

// buildRandom: node i>0 gets an edge from a uniformly random earlier node
// that still has a free slot (a random recursive tree, so everything is
// reachable from node 0), then `extra` edges u->v are added between random
// nodes (u uniform among nodes with a free slot, v uniform, v != u).
// Returns the number of extra edges actually added.
func buildRandom(nodes []*Node, extra int, rng *rand.Rand) int {
	n := len(nodes)
	for i := 1; i < n; i++ {
		// At most i-1 of the 4*i slots of nodes[0:i] are used, so the
		// rejection probability is below 1/4.
		for {
			if addEdge(nodes[rng.Intn(i)], nodes[i]) {
				break
			}
		}
	}
	if n < 2 {
		return 0
	}
	free := fanout*n - (n - 1)
	if extra > free {
		logf("clamping -extra %d to %d (free pointer slots)", extra, free)
		extra = free
	}
	open := make([]int32, 0, n)
	for i, p := range nodes {
		if !full(p) {
			open = append(open, int32(i))
		}
	}
	for e := 0; e < extra; e++ {
		k := rng.Intn(len(open))
		u := nodes[open[k]]
		v := rng.Intn(n - 1)
		if v >= u.id {
			v++ // skip self loops
		}
		addEdge(u, nodes[v])
		if full(u) {
			open[k] = open[len(open)-1]
			open = open[:len(open)-1]
		}
	}
	return extra
}

// buildTree: complete binary tree in heap order (children of i: 2i+1, 2i+2).
func buildTree(nodes []*Node) {
	n := len(nodes)
	for i := range nodes {
		if c := 2*i + 1; c < n {
			nodes[i].edges[0] = nodes[c]
		}
		if c := 2*i + 2; c < n {
			nodes[i].edges[1] = nodes[c]
		}
	}
}

// buildList: singly linked list 0 -> 1 -> ... -> n-1.
func buildList(nodes []*Node) {
	for i := 0; i+1 < len(nodes); i++ {
		nodes[i].edges[0] = nodes[i+1]
	}
}

// build creates the heap and fills in everything in info except DumpBytes.
// The node index slice and BFS scratch space die when it returns.
func build(shape string, n, extra int, seed int64, info *Info) *Node {
	rng := rand.New(rand.NewSource(seed))
	t0 := time.Now()
	nodes := allocNodes(n)
	switch shape {
	case "random":
		info.ExtraEdges = buildRandom(nodes, extra, rng)
	case "tree":
		buildTree(nodes)
	case "list":
		buildList(nodes)
	}
	logf("built %s n=%d extra=%d in %.2fs", shape, n, info.ExtraEdges, time.Since(t0).Seconds())

	// Iterative BFS from the root over node indices.
	t0 = time.Now()
	dist := make([]int32, n)
	for i := range dist {
		dist[i] = -1
	}
	queue := make([]int32, 1, n)
	dist[0] = 0
	edges := 0
	for h := 0; h < len(queue); h++ {
		u := nodes[queue[h]]
		d := dist[u.id]
		for _, v := range u.edges {
			if v == nil {
				continue
			}
			edges++
			if dist[v.id] < 0 {
				dist[v.id] = d + 1
				queue = append(queue, int32(v.id))
			}
		}
	}
	if len(queue) != n {
		panic(fmt.Sprintf("only %d of %d nodes reachable from root", len(queue), n))
	}
	far := queue[len(queue)-1] // BFS order: the last one has maximal distance
	info.Root = addr(nodes[0])
	info.Farthest = addr(nodes[far])
	info.FarthestDepth = int(dist[far])
	info.Edges = edges
	logf("bfs: farthest depth %d, %d edges, in %.2fs", dist[far], edges, time.Since(t0).Seconds())

	ns := 200
	if n < ns {
		ns = n
	}
	seen := make(map[int]bool, ns)
	info.Sample = make([]string, 0, ns)
	for len(info.Sample) < ns {
		i := rng.Intn(n)
		if !seen[i] {
			seen[i] = true
			info.Sample = append(info.Sample, addr(nodes[i]))
		}
	}
	return nodes[0]
}

func main() {
	shape := flag.String("shape", "random", "heap shape: random, tree or list")
	n := flag.Int("n", 100000, "number of nodes")
	extra := flag.Int("extra", -1, "extra random edges for -shape random (-1: 1.5 per node)")
	seed := flag.Int64("seed", 1, "random seed")
	dumpPath := flag.String("dump", "", "heap dump output path")
	infoPath := flag.String("info", "", "JSON info output path")
	dump2Path := flag.String("dump2", "", "second heap dump, after mutating the graph")
	mutate := flag.Float64("mutate", 0.1, "with -dump2: new nodes, as a share of -n")
	flag.Parse()

	switch *shape {
	case "random", "tree", "list":
	default:
		logf("unknown -shape %q (want random, tree or list)", *shape)
		os.Exit(2)
	}
	if *n < 1 || *n > 1<<31-1 || *dumpPath == "" || *infoPath == "" || flag.NArg() != 0 {
		logf("need -n >= 1, -dump PATH and -info PATH")
		flag.Usage()
		os.Exit(2)
	}
	if *extra < 0 {
		*extra = *n * 3 / 2
	}

	info := &Info{
		Shape:     *shape,
		N:         *n,
		Seed:      *seed,
		GoVersion: runtime.Version(),
		NodeSize:  int(unsafe.Sizeof(Node{})),
		Oid:       fmt.Sprintf("0x%x", OidMarker),
	}

	// No garbage worth collecting while building; avoid GC cycles over the
	// growing heap.
	old := debug.SetGCPercent(-1)
	gRoot = build(*shape, *n, *extra, *seed, info)
	debug.SetGCPercent(old)

	info.DumpBytes = writeDump(*dumpPath)
	runtime.KeepAlive(gRoot)

	if *dump2Path != "" {
		info.Mutated = mutateGraph(gRoot, *n, int(*mutate*float64(*n)), *seed)
		info.Dump2Bytes = writeDump(*dump2Path)
	}

	b, err := json.MarshalIndent(info, "", "  ")
	if err == nil {
		err = os.WriteFile(*infoPath, append(b, '\n'), 0o644)
	}
	if err != nil {
		logf("%v", err)
		os.Exit(1)
	}
}

// mutateGraph gives `count` new nodes to random pointer slots of the nodes reachable from
// root (ids 0..n-1), replacing what the slots held. Returns the number of new nodes.
func mutateGraph(root *Node, n, count int, seed int64) int {
	nodes := make([]*Node, n)
	nodes[root.id] = root
	queue := []*Node{root}
	for h := 0; h < len(queue); h++ {
		for _, v := range queue[h].edges {
			if v != nil && v.id < n && nodes[v.id] == nil {
				nodes[v.id] = v
				queue = append(queue, v)
			}
		}
	}
	queue = nil
	rng := rand.New(rand.NewSource(seed + 1))
	for i := 0; i < count; i++ {
		u := nodes[rng.Intn(n)]
		p := new(Node)
		p.Oid, p.id = OidMarker, n+i
		u.edges[rng.Intn(fanout)] = p
	}
	logf("mutated: %d new nodes", count)
	return count
}

// writeDump collects the garbage, writes a heap dump to path and returns its size.
func writeDump(path string) int64 {
	t0 := time.Now()
	runtime.GC()
	logf("gc in %.2fs", time.Since(t0).Seconds())

	t0 = time.Now()
	f, err := os.Create(path)
	if err != nil {
		logf("%v", err)
		os.Exit(1)
	}
	debug.WriteHeapDump(f.Fd())
	if err := f.Close(); err != nil {
		logf("%v", err)
		os.Exit(1)
	}
	st, err := os.Stat(path)
	if err != nil {
		logf("%v", err)
		os.Exit(1)
	}
	logf("wrote %s (%d bytes) in %.2fs", path, st.Size(), time.Since(t0).Seconds())
	return st.Size()
}
