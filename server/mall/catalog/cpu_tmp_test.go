package catalog
import ("testing";"syscall";"time";"runtime")
func cpuNow() time.Duration { var ru syscall.Rusage; syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); return time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) }
func TestCPUTmp(t *testing.T) {
	runtime.LockOSThread()
	ix := benchIndex(nil)
	nc := &Memory{noFacetCache: true}
	nc.snap.Store(ix.snap.Load())
	for _, shape := range []string{"shopper", "mixed", "browse", "text", "all"} {
		qs := benchQueries(shape)
		for _, m := range []*Memory{ix, nc} {
			for i := 0; i < 20000; i++ { m.Search(qs[i%len(qs)]) }
			n := 100000
			var buf []byte
			c0 := cpuNow()
			for i := 0; i < n; i++ { r := m.Search(qs[i%len(qs)]); _ = r }
			c1 := cpuNow()
			for i := 0; i < n; i++ { r := m.Search(qs[i%len(qs)]); buf = r.AppendFacetsJSON(buf[:0]) }
			c2 := cpuNow()
			t.Logf("%-8s nocache=%-5v  search %6.2f µs  +json %6.2f µs (thread CPU)", shape, m.noFacetCache, float64(c1-c0)/float64(n)/1e3, float64(c2-c1)/float64(n)/1e3)
		}
	}
}
