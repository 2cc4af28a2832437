package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// pathGen appends a request path (with query) to b.
type pathGen func(r *rand.Rand, b []byte) []byte

var (
	sorts      = []string{"", "relevance", "price_asc", "price_desc", "newest", "best_selling"}
	tiers      = []string{"free", "paid", "addon"}
	currencies = []string{"USD", "CNY"}
)

func appendQ(b []byte, key, val string) []byte {
	b = append(b, '&')
	b = append(b, key...)
	b = append(b, '=')
	return append(b, url.QueryEscape(val)...)
}

// searchGen draws shopper searches: terms from the catalog's word list
// (sometimes none, sometimes Chinese), filters, sorts, price ranges with a
// currency, attribute filters, pages 1–5 of 24.
func searchGen(c *catalogData) pathGen {
	return func(r *rand.Rand, b []byte) []byte {
		b = append(b, "/api/v1/products?per_page=24&page="...)
		b = strconv.AppendInt(b, int64(1+r.IntN(5)), 10)
		if r.IntN(10) < 7 {
			q := pick(r, wordsEN)
			switch n := r.IntN(10); {
			case n < 2:
				q = pick(r, wordsZH)
			case n < 5:
				q += " " + pick(r, wordsEN)
			}
			b = appendQ(b, "q", q)
		}
		kind := ""
		if r.IntN(10) < 3 {
			kind = pick(r, []string{"saas", "goods"})
			b = appendQ(b, "kind", kind)
		}
		if r.IntN(10) < 2 {
			cats := goodsCategories
			if kind == "saas" || (kind == "" && r.IntN(2) == 0) {
				cats = saasCategories
			}
			b = appendQ(b, "category", pick(r, cats))
		}
		if r.IntN(100) < 15 {
			b = appendQ(b, "store", pick(r, c.stores))
		}
		if kind != "goods" && r.IntN(10) == 0 {
			b = appendQ(b, "tier", pick(r, tiers))
		}
		if s := pick(r, sorts); s != "" {
			b = appendQ(b, "sort", s)
		}
		if r.IntN(100) < 40 {
			cur := pick(r, currencies)
			b = appendQ(b, "currency", cur)
			if r.IntN(10) < 7 {
				scale := int64(1)
				if cur == "CNY" {
					scale = 7
				}
				lo := r.Int64N(20_000) * scale
				hi := lo + (1_000+r.Int64N(40_000))*scale
				if r.IntN(3) > 0 {
					b = appendQ(b, "min_price", strconv.FormatInt(lo, 10))
				}
				b = appendQ(b, "max_price", strconv.FormatInt(hi, 10))
			}
		}
		if r.IntN(10) == 0 {
			if kind == "saas" {
				b = appendQ(b, "attr.Deployment", pick(r, saasAttrs["Deployment"]))
			} else {
				b = appendQ(b, "attr.Color", pick(r, goodsAttrs["Color"]))
			}
		}
		if r.IntN(20) == 0 {
			b = append(b, "&in_stock=true"...)
		}
		return b
	}
}

func detailGen(c *catalogData) pathGen {
	return func(r *rand.Rand, b []byte) []byte {
		b = append(b, "/api/v1/products/"...)
		return strconv.AppendInt(b, pick(r, c.productIDs), 10)
	}
}

func storefrontGen(c *catalogData) pathGen {
	return func(r *rand.Rand, b []byte) []byte {
		b = append(b, "/p/"...)
		return strconv.AppendInt(b, pick(r, c.productIDs), 10)
	}
}

// recorder collects one endpoint's outcomes from many workers.
type recorder struct {
	mu      sync.Mutex
	lats    []time.Duration
	errs    int64
	samples map[string]int // error description → count
	bytes   int64
	statusN map[int]int64
}

func newRecorder() *recorder {
	return &recorder{samples: map[string]int{}, statusN: map[int]int64{}}
}

// workerRec is a worker's private share, merged at the end.
type workerRec struct {
	lats   []time.Duration
	errs   int64
	bytes  int64
	status map[int]int64
	errMsg map[string]int
}

func newWorkerRec(capacity int) *workerRec {
	return &workerRec{lats: make([]time.Duration, 0, capacity), status: map[int]int64{}, errMsg: map[string]int{}}
}

func (w *workerRec) fail(msg string) {
	w.errs++
	if len(w.errMsg) < 20 || w.errMsg[msg] > 0 {
		w.errMsg[msg]++
	}
}

func (rc *recorder) merge(w *workerRec) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.lats = append(rc.lats, w.lats...)
	rc.errs += w.errs
	rc.bytes += w.bytes
	for k, v := range w.status {
		rc.statusN[k] += v
	}
	for k, v := range w.errMsg {
		if len(rc.samples) < 20 || rc.samples[k] > 0 {
			rc.samples[k] += v
		}
	}
}

// errSamples lists the most frequent error descriptions.
func (rc *recorder) errSamples() []string {
	type kv struct {
		k string
		v int
	}
	var l []kv
	for k, v := range rc.samples {
		l = append(l, kv{k, v})
	}
	slices.SortFunc(l, func(a, b kv) int {
		if a.v != b.v {
			return b.v - a.v
		}
		if a.k < b.k {
			return -1
		}
		return 1
	})
	var out []string
	for i, e := range l {
		if i == 5 {
			break
		}
		out = append(out, fmt.Sprintf("%d× %s", e.v, e.k))
	}
	return out
}

type stats struct {
	p50, p90, p99, max, mean float64 // milliseconds
}

func summarize(ds []time.Duration) stats {
	if len(ds) == 0 {
		return stats{}
	}
	slices.Sort(ds)
	q := func(p float64) float64 {
		i := int(p*float64(len(ds))+0.5) - 1
		i = max(0, min(i, len(ds)-1))
		return ms(ds[i])
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return stats{p50: q(0.50), p90: q(0.90), p99: q(0.99), max: ms(ds[len(ds)-1]), mean: ms(sum / time.Duration(len(ds)))}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func errText(status int, body []byte) string {
	if len(body) > 160 {
		body = body[:160]
	}
	return fmt.Sprintf("HTTP %d %s", status, body)
}

// profiler writes the CPU profile of one endpoint's measured window, and
// the mutex and block profiles (sampled during measured windows only;
// cumulative over the windows so far, so use them with -only).
type profiler struct {
	f          *os.File
	contention string // path prefix of the mutex and block profiles
}

func startProfile(o *Options, name string) (*profiler, error) {
	if o.CPUProfile == "" && o.ContentionProfile == "" {
		return nil, nil
	}
	p := &profiler{}
	if o.CPUProfile != "" {
		path := o.CPUProfile + "." + name + ".pprof"
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			_ = f.Close()
			return nil, err
		}
		o.logf("  CPU profile → %s", path)
		p.f = f
	}
	if o.ContentionProfile != "" {
		p.contention = o.ContentionProfile + "." + name
		runtime.SetMutexProfileFraction(5)
		runtime.SetBlockProfileRate(int(100 * time.Microsecond))
	}
	return p, nil
}

func (p *profiler) stop() error {
	if p == nil {
		return nil
	}
	var err error
	if p.f != nil {
		pprof.StopCPUProfile()
		err = p.f.Close()
	}
	if p.contention != "" {
		runtime.SetMutexProfileFraction(0)
		runtime.SetBlockProfileRate(0)
		for _, kind := range []string{"mutex", "block"} {
			f, ferr := os.Create(p.contention + "." + kind + ".pprof")
			if ferr != nil {
				return ferr
			}
			if werr := pprof.Lookup(kind).WriteTo(f, 0); werr != nil && err == nil {
				err = werr
			}
			if cerr := f.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
	}
	return err
}

// measureGET drives GETs of gen's paths with o.Conns workers: Warmup
// unrecorded, then Duration recorded (requests started in the window count;
// the window ends when the last of them completes).
func measureGET(ctx context.Context, e *env, name string, c *fasthttp.HostClient, base string, gen pathGen, hdr ...string) (*Result, error) {
	o := e.o
	o.logf("%s: %d conns, %s warm-up, %s measured", name, o.Conns, o.Warmup, o.Duration)
	runtime.GC()
	rc := newRecorder()
	start := time.Now()
	mStart := start.Add(o.Warmup)
	mEnd := mStart.Add(o.Duration)
	var lastDone atomic.Int64
	var wg sync.WaitGroup
	for w := range o.Conns {
		wg.Go(func() {
			r := newRand(o.Seed, hash32(name)<<32|uint64(w))
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.Header.Set("X-Client-Source", "app")
			for i := 0; i+1 < len(hdr); i += 2 {
				req.Header.Set(hdr[i], hdr[i+1])
			}
			wr := newWorkerRec(1 << 14)
			uri := make([]byte, 0, 512)
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(mEnd) {
					break
				}
				uri = append(uri[:0], base...)
				uri = gen(r, uri)
				req.SetRequestURIBytes(uri)
				err := c.Do(req, resp)
				d := time.Since(t0)
				if t0.Before(mStart) {
					continue
				}
				wr.lats = append(wr.lats, d)
				switch {
				case err != nil:
					wr.fail("transport: " + err.Error())
				default:
					st := resp.StatusCode()
					wr.status[st]++
					wr.bytes += int64(len(resp.Body()))
					if st != fasthttp.StatusOK {
						wr.fail(errText(st, resp.Body()))
					}
				}
			}
			now := time.Now().UnixNano()
			for {
				old := lastDone.Load()
				if now <= old || lastDone.CompareAndSwap(old, now) {
					break
				}
			}
			rc.merge(wr)
		})
	}
	// Profile the measured window only.
	var prof *profiler
	var perr error
	var cpu0 time.Duration
	select {
	case <-time.After(time.Until(mStart)):
		cpu0 = processCPU()
		prof, perr = startProfile(o, name)
	case <-ctx.Done():
	}
	wg.Wait()
	cpu := processCPU() - cpu0
	if err := prof.stop(); err != nil && perr == nil {
		perr = err
	}
	if perr != nil {
		return nil, perr
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	window := time.Unix(0, lastDone.Load()).Sub(mStart)
	r := resultOf(name, rc, window)
	r.setCPU(cpu, window)
	return r, nil
}

func resultOf(name string, rc *recorder, window time.Duration) *Result {
	st := summarize(rc.lats)
	r := &Result{Name: name, Ops: int64(len(rc.lats)), Errors: rc.errs, Seconds: window.Seconds(),
		P50ms: st.p50, P90ms: st.p90, P99ms: st.p99, MaxMs: st.max, MeanMs: st.mean, ErrorSamples: rc.errSamples()}
	if window > 0 {
		r.PerSec = float64(r.Ops) / window.Seconds()
	}
	if r.Ops > 0 {
		r.MeanBytes = float64(rc.bytes) / float64(r.Ops)
	}
	if len(rc.statusN) > 0 {
		r.Status = map[string]int64{}
		for k, v := range rc.statusN {
			r.Status[strconv.Itoa(k)] = v
		}
	}
	return r
}

// setCPU records the process's CPU use over the window, in cores: well
// below GOMAXPROCS under full load means something else had the CPU (other
// processes) or the server waited (locks, the single writer).
func (r *Result) setCPU(cpu, window time.Duration) {
	if cpu > 0 && window > 0 {
		r.CPUCores = cpu.Seconds() / window.Seconds()
	}
	r.LoadAvg = loadAvg()
}

func hash32(s string) uint64 {
	h := uint64(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 16777619 & 0xffffffff
	}
	return h
}
