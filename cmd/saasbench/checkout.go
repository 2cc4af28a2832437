package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"saasmall/server/auth"
)

// ShopperReport says how the checkout shoppers were prepared.
type ShopperReport struct {
	Shoppers      int      `json:"shoppers"`
	CreateSeconds float64  `json:"create_and_login_seconds"` // Auth.CreateUser + HTTP login, wall clock
	CreateP50ms   float64  `json:"create_user_p50_ms"`
	LoginP50ms    float64  `json:"login_p50_ms"`
	Rounds        int      `json:"rounds"`
	FillSeconds   float64  `json:"fill_seconds"` // untimed cart refills, summed over rounds
	CartLines     int64    `json:"cart_lines"`
	FillErrors    int64    `json:"fill_errors"`
	FillSamples   []string `json:"fill_error_samples,omitempty"`
	WallSeconds   float64  `json:"wall_seconds"` // timed + untimed
	// SQLite group commit during the timed part: write transactions
	// (checkout, pay, session touches…), the commits they shared, and the
	// repeatable ones run again after a neighbour failed.
	TxMembers int64 `json:"tx_members,omitempty"`
	Commits   int64 `json:"commits,omitempty"`
	TxReruns  int64 `json:"tx_reruns,omitempty"`
}

type shopper struct {
	n     int
	auth  []byte // "Bearer …"
	ready bool   // cart filled for this round
	dirty bool   // the cart may hold lines from a failed round
}

var checkoutBody = []byte(`{"shipping_address":{"name":"Bench Shopper","line1":"1 Loopback Road","city":"Springfield",` +
	`"postal_code":"12345","country":"US"},"currency":"USD"}`)

var payBody = []byte(`{"method":"sandbox"}`)

// measureCheckout creates the shoppers, then runs rounds: fill every cart
// (untimed), then checkout+pay every shopper with o.Conns workers (timed),
// until the timed phases add up to o.Duration. A shopper's cart is only
// refilled between timed phases, so the measured operation is exactly
// checkout and pay.
func measureCheckout(ctx context.Context, e *env, cat *catalogData) (*Result, *ShopperReport, error) {
	o := e.o
	rep := &ShopperReport{Shoppers: o.Shoppers}
	shoppers, err := makeShoppers(ctx, e, rep)
	if err != nil {
		return nil, rep, err
	}
	o.logf("checkout: %d shoppers, %d conns, rounds of fill (untimed) + checkout+pay (timed) until %s timed", len(shoppers), o.Conns, o.Duration)

	rc := newRecorder()
	fillRec := newRecorder()
	var timed, cpu time.Duration
	var orders, httpReqs atomic.Int64
	wall := time.Now()
	runtime.GC()
	for round := 0; timed < o.Duration; round++ {
		if ctx.Err() != nil {
			return nil, rep, ctx.Err()
		}
		// Untimed: fill the carts.
		f0 := time.Now()
		fillCarts(ctx, e, cat, shoppers, round, fillRec, &rep.CartLines)
		rep.FillSeconds += time.Since(f0).Seconds()
		ready := make([]*shopper, 0, len(shoppers))
		for _, s := range shoppers {
			if s.ready {
				ready = append(ready, s)
			}
		}
		if len(ready) == 0 {
			rep.FillErrors, rep.FillSamples = fillRec.errs, fillRec.errSamples()
			return nil, rep, fmt.Errorf("no cart could be filled in round %d: %v", round+1, rep.FillSamples)
		}
		prof, err := startProfile(o, fmt.Sprintf("checkout-r%02d", round+1))
		if err != nil {
			return nil, rep, err
		}
		// Timed: checkout+pay, each ready shopper once.
		var next atomic.Int64
		var wg sync.WaitGroup
		t0, c0, g0 := time.Now(), processCPU(), e.srv.DB.GroupStats()
		for range min(o.Conns, len(ready)) {
			wg.Go(func() {
				req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				wr := newWorkerRec(len(ready)/o.Conns + 1)
				for ctx.Err() == nil {
					i := int(next.Add(1) - 1)
					if i >= len(ready) {
						break
					}
					s := ready[i]
					start := time.Now()
					n, reqs, msg := checkoutPay(e, req, resp, s, round)
					wr.lats = append(wr.lats, time.Since(start))
					httpReqs.Add(int64(reqs))
					if msg != "" {
						wr.fail(msg)
						continue
					}
					orders.Add(int64(n))
				}
				rc.merge(wr)
			})
		}
		wg.Wait()
		timed += time.Since(t0)
		cpu += processCPU() - c0
		g1 := e.srv.DB.GroupStats()
		rep.Commits += g1.Commits - g0.Commits
		rep.TxMembers += g1.Members - g0.Members
		rep.TxReruns += g1.Reruns - g0.Reruns
		if err := prof.stop(); err != nil {
			return nil, rep, err
		}
		rep.Rounds++
	}
	rep.WallSeconds = time.Since(wall).Seconds()
	rep.FillErrors, rep.FillSamples = fillRec.errs, fillRec.errSamples()
	r := resultOf(epCheckout, rc, timed)
	r.setCPU(cpu, timed)
	r.Orders = orders.Load()
	r.HTTPRequests = httpReqs.Load()
	if timed > 0 {
		r.OrdersPerSec = float64(r.Orders) / timed.Seconds()
	}
	o.logf("checkout: %d rounds, %.2fs timed, %.2fs filling carts (untimed)", rep.Rounds, timed.Seconds(), rep.FillSeconds)
	if rep.Commits > 0 {
		o.logf("checkout: %d write transactions in %d SQLite commits (%.1f per commit), %d run again", rep.TxMembers, rep.Commits,
			float64(rep.TxMembers)/float64(rep.Commits), rep.TxReruns)
	}
	return r, rep, nil
}

// checkoutPay checks out s's cart and pays every order it returns. It
// returns the orders paid, the HTTP requests made and an error description
// ("" when every request succeeded).
func checkoutPay(e *env, req *fasthttp.Request, resp *fasthttp.Response, s *shopper, round int) (int, int, string) {
	req.Reset()
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURI(e.base + "/api/v1/checkout")
	req.Header.SetContentType("application/json")
	req.Header.SetBytesV(fasthttp.HeaderAuthorization, s.auth)
	req.Header.Set("X-Client-Source", "app")
	req.Header.Set("Idempotency-Key", "co-"+strconv.Itoa(s.n)+"-"+strconv.Itoa(round))
	req.SetBodyRaw(checkoutBody)
	if err := e.client.Do(req, resp); err != nil {
		s.dirty = true
		return 0, 1, "checkout transport: " + err.Error()
	}
	if resp.StatusCode() != fasthttp.StatusCreated {
		s.dirty = true
		return 0, 1, "checkout " + errText(resp.StatusCode(), resp.Body())
	}
	var out struct {
		Orders []struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		} `json:"orders"`
	}
	if err := json.Unmarshal(resp.Body(), &out); err != nil || len(out.Orders) == 0 {
		return 0, 1, fmt.Sprintf("checkout: unexpected body (%v): %.120s", err, resp.Body())
	}
	reqs, paid := 1, 0
	for _, od := range out.Orders {
		if od.Status != "pending_payment" {
			paid++ // nothing to pay (free): already paid
			continue
		}
		id := strconv.FormatInt(od.ID, 10)
		req.Reset()
		req.Header.SetMethod(fasthttp.MethodPost)
		req.SetRequestURI(e.base + "/api/v1/orders/" + id + "/pay")
		req.Header.SetContentType("application/json")
		req.Header.SetBytesV(fasthttp.HeaderAuthorization, s.auth)
		req.Header.Set("X-Client-Source", "app")
		req.Header.Set("Idempotency-Key", "pay-"+id)
		req.SetBodyRaw(payBody)
		reqs++
		if err := e.client.Do(req, resp); err != nil {
			return paid, reqs, "pay transport: " + err.Error()
		}
		if resp.StatusCode() != fasthttp.StatusOK {
			return paid, reqs, "pay " + errText(resp.StatusCode(), resp.Body())
		}
		paid++
	}
	return paid, reqs, ""
}

// makeShoppers creates the accounts in-process (Auth.CreateUser) and signs
// each in over HTTP for a bearer token.
func makeShoppers(ctx context.Context, e *env, rep *ShopperReport) ([]*shopper, error) {
	o := e.o
	t0 := time.Now()
	out := make([]*shopper, o.Shoppers)
	var (
		next     atomic.Int64
		mu       sync.Mutex
		firstErr error
		cDur     []time.Duration
		lDur     []time.Duration
		wg       sync.WaitGroup
	)
	setErr := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	// The server hashes at most GOMAXPROCS passwords at once; a few more
	// workers keep it busy while others wait on HTTP.
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(out) {
					return
				}
				mu.Lock()
				failed := firstErr != nil
				mu.Unlock()
				if failed {
					return
				}
				email := fmt.Sprintf("shopper%05d@saasbench.example.com", i)
				s := time.Now()
				if _, err := e.srv.Auth.CreateUser(ctx, auth.RegisterInput{Email: email, Password: benchPassword,
					Name: fmt.Sprintf("Shopper %d", i)}, false); err != nil {
					setErr(fmt.Errorf("create shopper %d: %w", i, err))
					return
				}
				cd := time.Since(s)
				body, _ := json.Marshal(auth.LoginInput{Email: email, Password: benchPassword})
				req.Reset()
				req.Header.SetMethod(fasthttp.MethodPost)
				req.SetRequestURI(e.base + "/api/v1/auth/login")
				req.Header.SetContentType("application/json")
				req.Header.Set("X-Client-Source", "app")
				req.SetBodyRaw(body)
				s = time.Now()
				if err := e.client.Do(req, resp); err != nil {
					setErr(fmt.Errorf("login shopper %d: %w", i, err))
					return
				}
				ld := time.Since(s)
				if resp.StatusCode() != fasthttp.StatusOK {
					setErr(fmt.Errorf("login shopper %d: %s", i, errText(resp.StatusCode(), resp.Body())))
					return
				}
				var si struct {
					Token string `json:"token"`
				}
				if err := json.Unmarshal(resp.Body(), &si); err != nil || si.Token == "" {
					setErr(fmt.Errorf("login shopper %d: no token in %.120s", i, resp.Body()))
					return
				}
				out[i] = &shopper{n: i, auth: []byte("Bearer " + si.Token)}
				mu.Lock()
				cDur = append(cDur, cd)
				lDur = append(lDur, ld)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	rep.CreateSeconds = time.Since(t0).Seconds()
	rep.CreateP50ms, rep.LoginP50ms = summarize(cDur).p50, summarize(lDur).p50
	if firstErr != nil {
		return nil, firstErr
	}
	o.logf("%d shoppers created (Auth.CreateUser p50 %.0fms) and signed in over HTTP (login p50 %.0fms) in %.2fs",
		len(out), rep.CreateP50ms, rep.LoginP50ms, rep.CreateSeconds)
	return out, nil
}

// fillCarts puts 1–3 lines from one store into each shopper's cart (so a
// checkout makes one order), emptying carts a failed round left behind.
func fillCarts(ctx context.Context, e *env, cat *catalogData, shoppers []*shopper, round int, rec *recorder, lines *int64) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var added atomic.Int64
	for w := range min(e.o.Conns, len(shoppers)) {
		wg.Go(func() {
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			wr := newWorkerRec(0)
			r := newRand(e.o.Seed, uint64(round)<<32|uint64(w)|1<<62)
			body := make([]byte, 0, 64)
		shoppers:
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(shoppers) {
					break
				}
				s := shoppers[i]
				s.ready = false
				if s.dirty {
					if msg := emptyCart(e, req, resp, s); msg != "" {
						wr.fail(msg)
						continue
					}
					s.dirty = false
				}
				skus := cat.cartable[pick(r, cat.storeIdx)]
				n := 1 + r.IntN(3)
				seen := map[int64]bool{}
				for range n {
					k := pick(r, skus)
					if seen[k.ID] {
						continue
					}
					seen[k.ID] = true
					body = append(body[:0], `{"sku_id":`...)
					body = strconv.AppendInt(body, k.ID, 10)
					body = append(body, `,"quantity":`...)
					body = strconv.AppendInt(body, int64(1+r.IntN(k.maxQty())), 10)
					body = append(body, '}')
					req.Reset()
					req.Header.SetMethod(fasthttp.MethodPost)
					req.SetRequestURI(e.base + "/api/v1/cart/items")
					req.Header.SetContentType("application/json")
					req.Header.SetBytesV(fasthttp.HeaderAuthorization, s.auth)
					req.Header.Set("X-Client-Source", "app")
					req.SetBodyRaw(body)
					if err := e.client.Do(req, resp); err != nil {
						wr.fail("add to cart transport: " + err.Error())
						s.dirty = true
						continue shoppers
					}
					if resp.StatusCode() != fasthttp.StatusCreated {
						wr.fail("add to cart " + errText(resp.StatusCode(), resp.Body()))
						s.dirty = true
						continue shoppers
					}
					added.Add(1)
				}
				s.ready = true
			}
			rec.merge(wr)
		})
	}
	wg.Wait()
	*lines += added.Load()
}

// emptyCart deletes every line of s's cart.
func emptyCart(e *env, req *fasthttp.Request, resp *fasthttp.Response, s *shopper) string {
	req.Reset()
	req.SetRequestURI(e.base + "/api/v1/cart")
	req.Header.SetBytesV(fasthttp.HeaderAuthorization, s.auth)
	if err := e.client.Do(req, resp); err != nil {
		return "get cart transport: " + err.Error()
	}
	if resp.StatusCode() != fasthttp.StatusOK {
		return "get cart " + errText(resp.StatusCode(), resp.Body())
	}
	var cv struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	if err := json.Unmarshal(resp.Body(), &cv); err != nil {
		return "get cart: " + err.Error()
	}
	for _, it := range cv.Items {
		req.Reset()
		req.Header.SetMethod(fasthttp.MethodDelete)
		req.SetRequestURI(e.base + "/api/v1/cart/items/" + strconv.FormatInt(it.ID, 10))
		req.Header.SetBytesV(fasthttp.HeaderAuthorization, s.auth)
		if err := e.client.Do(req, resp); err != nil {
			return "delete cart line transport: " + err.Error()
		}
		if resp.StatusCode() != fasthttp.StatusOK {
			return "delete cart line " + errText(resp.StatusCode(), resp.Body())
		}
	}
	return ""
}
