package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Targets from DESIGN.md ("Hot paths") and the checkout issue.
const (
	targetSearchRatio     = 0.30
	targetSearchP99ms     = 25.0
	targetDetailRatio     = 0.45
	targetCheckoutPerSec  = 1500.0
	targetCheckoutP99ms   = 60.0
	clientDescription     = "fasthttp.HostClient, keep-alive, one connection per worker"
	checkoutDescription   = "POST /api/v1/checkout + POST /api/v1/orders/{id}/pay per order (one order per cart)"
	measurementDescriptor = "requests started in the window count; the window ends when the last completes"
)

// Report is one run's outcome.
type Report struct {
	Config  ConfigReport `json:"config"`
	Machine Machine      `json:"machine"`
	Seeding *SeedReport  `json:"seeding"`
	Results []*Result    `json:"results"`
	// Pass: every judged target met and no request failed.
	Pass bool   `json:"pass"`
	Kept string `json:"kept_database,omitempty"`
}

// ConfigReport echoes the options.
type ConfigReport struct {
	Database    string  `json:"database"`
	Duration    float64 `json:"duration_seconds"`
	Warmup      float64 `json:"warmup_seconds"`
	Conns       int     `json:"conns"`
	Products    int     `json:"products"`
	Stores      int     `json:"stores"`
	Shoppers    int     `json:"shoppers"`
	SeedWorkers int     `json:"seed_workers"`
	Seed        int64   `json:"seed"`
	Client      string  `json:"client"`
}

// Machine describes where the run happened.
type Machine struct {
	GOMAXPROCS int    `json:"gomaxprocs"`
	NumCPU     int    `json:"num_cpu"`
	GoVersion  string `json:"go_version"`
	OS         string `json:"os"`
	LoadAvg    string `json:"loadavg_at_start,omitempty"`
}

// Result is one endpoint's figures. For checkout an op is one shopper's
// checkout followed by the payment of each order it returned.
type Result struct {
	Name         string           `json:"name"`
	Ops          int64            `json:"ops"`
	Seconds      float64          `json:"seconds"`
	PerSec       float64          `json:"per_second"`
	P50ms        float64          `json:"p50_ms"`
	P90ms        float64          `json:"p90_ms"`
	P99ms        float64          `json:"p99_ms"`
	MaxMs        float64          `json:"max_ms"`
	MeanMs       float64          `json:"mean_ms"`
	Errors       int64            `json:"errors"`
	ErrorSamples []string         `json:"error_samples,omitempty"`
	MeanBytes    float64          `json:"mean_response_bytes,omitempty"`
	Status       map[string]int64 `json:"status,omitempty"`
	Orders       int64            `json:"orders,omitempty"`
	OrdersPerSec float64          `json:"orders_per_second,omitempty"`
	HTTPRequests int64            `json:"http_requests,omitempty"`
	CPUCores     float64          `json:"process_cpu_cores,omitempty"` // CPU used by this process (server + client) ÷ window
	LoadAvg      string           `json:"loadavg_after,omitempty"`
	Ratio        *float64         `json:"ratio_to_ceiling,omitempty"`
	Target       string           `json:"target,omitempty"`
	Met          *bool            `json:"target_met,omitempty"`
}

func reportConfig(o *Options) ConfigReport {
	return ConfigReport{Duration: o.Duration.Seconds(), Warmup: o.Warmup.Seconds(), Conns: o.Conns, Products: o.Products,
		Stores: o.Stores, Shoppers: o.Shoppers, SeedWorkers: o.SeedWorkers, Seed: o.Seed, Client: clientDescription}
}

func ptr[T any](v T) *T { return &v }

// judge fills ratios and targets and the overall verdict.
func (rep *Report) judge(ceiling *Result) {
	rep.Pass = true
	for _, r := range rep.Results {
		if ceiling != nil && ceiling.PerSec > 0 && r.Name != epCheckout {
			r.Ratio = ptr(r.PerSec / ceiling.PerSec)
		}
		switch r.Name {
		case epSearch:
			r.Target = fmt.Sprintf("≥ %.0f %% of ceiling, p99 < %.0f ms", targetSearchRatio*100, targetSearchP99ms)
			if r.Ratio != nil {
				r.Met = ptr(*r.Ratio >= targetSearchRatio && r.P99ms < targetSearchP99ms && r.Errors == 0)
			}
		case epDetail:
			r.Target = fmt.Sprintf("≥ %.0f %% of ceiling", targetDetailRatio*100)
			if r.Ratio != nil {
				r.Met = ptr(*r.Ratio >= targetDetailRatio && r.Errors == 0)
			}
		case epDashboard:
			r.Ratio = nil
			r.Target = fmt.Sprintf("p99 < %d ms at %s orders, %d staff at once", targetDashboardP99ms, thousands(dashboardOrders), dashboardConns)
			r.Met = ptr(r.P99ms < targetDashboardP99ms && r.Errors == 0)
		case epCheckout:
			r.Target = fmt.Sprintf("≥ %s orders/s, 0 errors, p99 < %.0f ms", thousands(targetCheckoutPerSec), targetCheckoutP99ms)
			r.Met = ptr(r.OrdersPerSec >= targetCheckoutPerSec && r.Errors == 0 && r.P99ms < targetCheckoutP99ms)
		}
		if r.Errors > 0 || (r.Met != nil && !*r.Met) {
			rep.Pass = false
		}
	}
}

func thousands(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func fmtMs(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v < 10:
		return fmt.Sprintf("%.2fms", v)
	case v < 100:
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.0fms", v)
}

func (rep *Report) print(w io.Writer) {
	c := rep.Config
	m := rep.Machine
	fmt.Fprintf(w, "\nsaasbench: %s, %d products in %d stores, %d conns, %s measured per endpoint (%s warm-up for GETs)\n",
		c.Database, c.Products, c.Stores, c.Conns, time.Duration(c.Duration*float64(time.Second)), time.Duration(c.Warmup*float64(time.Second)))
	fmt.Fprintf(w, "client: %s; server and client share this process\n", c.Client)
	fmt.Fprintf(w, "machine: %s, %s, GOMAXPROCS %d (%d CPUs), load average at start %s\n", m.GoVersion, m.OS, m.GOMAXPROCS, m.NumCPU, m.LoadAvg)
	if s := rep.Seeding; s != nil {
		fmt.Fprintf(w, "seeding: %d stores %.2fs; %d products (%d SKUs, %d goods SKUs stocked) %.2fs = %.0f products/s "+
			"(CreateProduct p50 %.1fms p99 %.1fms, %d workers; AdjustStock %.2fs summed); catalog load %.2fs; total %.2fs\n",
			s.Tenants, s.TenantsSeconds, s.Products, s.SKUs, s.GoodsSKUs, s.ProductsSeconds, s.ProductsPerSec,
			s.CreateP50ms, s.CreateP99ms, c.SeedWorkers, s.StockSeconds, s.CatalogSeconds, s.TotalSeconds)
		if sh := s.Shoppers; sh != nil {
			fmt.Fprintf(w, "shoppers: %d created (Auth.CreateUser p50 %.0fms) and signed in over HTTP (login p50 %.0fms) in %.2fs; "+
				"checkout ran %d rounds, %.2fs refilling %d cart lines untimed (%d fill errors), %.2fs wall\n",
				sh.Shoppers, sh.CreateP50ms, sh.LoginP50ms, sh.CreateSeconds, sh.Rounds, sh.FillSeconds, sh.CartLines, sh.FillErrors, sh.WallSeconds)
			for _, e := range sh.FillSamples {
				fmt.Fprintf(w, "  fill error: %s\n", e)
			}
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-13s %14s %9s %9s %9s %8s %10s  %-36s %s\n", "endpoint", "rate", "p50", "p99", "max", "errors", "÷ceiling", "target", "")
	for _, r := range rep.Results {
		name, rate := r.Name, thousands(r.PerSec)+" req/s"
		ratio := "-"
		if r.Ratio != nil {
			ratio = fmt.Sprintf("%.3f", *r.Ratio)
		}
		if r.Name == epCheckout {
			name, rate = "checkout+pay", thousands(r.OrdersPerSec)+" ord/s"
			ratio = fmt.Sprintf("%.2f×1500", r.OrdersPerSec/targetCheckoutPerSec)
		}
		verdict := ""
		if r.Met != nil {
			verdict = "MISS"
			if *r.Met {
				verdict = "ok"
			}
		} else if r.Target != "" {
			verdict = "(no ceiling)"
		}
		fmt.Fprintf(w, "%-13s %14s %9s %9s %9s %8d %10s  %-36s %s\n", name, rate, fmtMs(r.P50ms), fmtMs(r.P99ms), fmtMs(r.MaxMs),
			r.Errors, ratio, r.Target, verdict)
	}
	fmt.Fprintln(w)
	for _, r := range rep.Results {
		extra := ""
		if r.Name == epCheckout {
			extra = fmt.Sprintf(", %d orders in %d ops (%d HTTP requests, %.0f req/s)", r.Orders, r.Ops, r.HTTPRequests,
				float64(r.HTTPRequests)/max(r.Seconds, 1e-9))
		}
		if r.MeanBytes > 0 {
			extra = fmt.Sprintf(", mean body %.0f B", r.MeanBytes) + extra
		}
		if r.CPUCores > 0 {
			extra += fmt.Sprintf("; process CPU %.2f of %d cores, load average %s", r.CPUCores, rep.Machine.GOMAXPROCS, r.LoadAvg)
		}
		fmt.Fprintf(w, "  %-12s %d ops in %.2fs, p90 %s, mean %s%s\n", r.Name, r.Ops, r.Seconds,
			fmtMs(r.P90ms), fmtMs(r.MeanMs), extra)
		for _, e := range r.ErrorSamples {
			fmt.Fprintf(w, "    error: %s\n", e)
		}
	}
	fmt.Fprintf(w, "  (GET windows: %s; checkout: %s, rounds of untimed cart refills)\n", measurementDescriptor, checkoutDescription)
	if rep.Kept != "" {
		fmt.Fprintf(w, "database kept: %s\n", rep.Kept)
	}
	verdict := "all judged targets met, no request errors"
	if !rep.Pass {
		verdict = "targets missed or request errors (see above)"
	}
	fmt.Fprintf(w, "verdict: %s\n", verdict)
}

func (rep *Report) printJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
