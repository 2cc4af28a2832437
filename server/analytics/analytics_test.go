package analytics

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"saasmall/tenants"
)

func day(s string) time.Time {
	d, err := time.Parse(dateLayout, s)
	if err != nil {
		panic(err)
	}
	return d
}

func win(from, to string) window {
	w := window{from: day(from), to: day(to)}
	w.end = w.to.AddDate(0, 0, 1)
	w.days = int(w.end.Sub(w.from) / (24 * time.Hour))
	return w
}

func fmtRanges(rs []dayRange) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.from.Format(dateLayout)+".."+r.end.AddDate(0, 0, -1).Format(dateLayout))
	}
	return strings.Join(out, " ")
}

func TestSplitMonths(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		live     []string
		months   string
		days     string
	}{
		{"2026-01-15", "2026-04-10", nil, "2026-02 2026-03", "2026-01-15..2026-01-31 2026-04-01..2026-04-10"},
		{"2026-01-01", "2026-03-31", []string{"2026-02-10", "2026-03-31"}, "2026-01",
			"2026-02-01..2026-02-09 2026-02-11..2026-03-30"},
		{"2025-12-31", "2026-01-01", []string{"2026-01-01"}, "", "2025-12-31..2025-12-31"},
		{"2026-02-01", "2026-02-28", nil, "2026-02", ""},
		{"2024-02-01", "2024-02-29", []string{"2024-03-01"}, "2024-02", ""},
	} {
		live := map[string]bool{}
		for _, d := range tc.live {
			live[d] = true
		}
		months, days := splitMonths(win(tc.from, tc.to), live)
		if got := strings.Join(months, " "); got != tc.months {
			t.Errorf("%s..%s live %v: months %q, want %q", tc.from, tc.to, tc.live, got, tc.months)
		}
		if got := fmtRanges(days); got != tc.days {
			t.Errorf("%s..%s live %v: days %q, want %q", tc.from, tc.to, tc.live, got, tc.days)
		}
	}
}

func TestLiveRanges(t *testing.T) {
	live, rs := liveRanges(win("2026-03-01", "2026-03-31"), []string{"2026-02-28", "2026-03-05", "2026-03-06", "2026-03-09", "2026-03-31", "2026-04-01"})
	if got := fmtRanges(rs); got != "2026-03-05..2026-03-06 2026-03-09..2026-03-09 2026-03-31..2026-03-31" || len(live) != 4 {
		t.Errorf("ranges %q, live %v", got, live)
	}
}

func TestByChannel(t *testing.T) {
	byCh, tot := byChannel([]channelRow{
		{Source: "pc", Orders: 4, PaidOrders: 2, Revenue: 2003},
		{Source: "applet", Orders: 2, PaidOrders: 1, Revenue: 1000},
		{Source: "pc", Orders: 1, PaidOrders: 0, Revenue: 0},
		{Source: "fax", Orders: 1, PaidOrders: 0, Revenue: 0}, // not a channel: in the totals only
	})
	// 3003 / 3 = 1001; conversion 3/8; shares 2/3, 1/3.
	want := Figures{Orders: 8, PaidOrders: 3, Revenue: 3003, AverageOrderValue: 1001, Conversion: 0.375,
		ChannelShare: map[string]float64{"pc": 0.6667, "mobile": 0, "app": 0, "applet": 0.3333}}
	if !reflect.DeepEqual(tot, want) {
		t.Errorf("totals %+v\nwant   %+v", tot, want)
	}
	if got := fmt.Sprint(byCh); got != "[{pc 5 2 2003 0.6667} {mobile 0 0 0 0} {app 0 0 0 0} {applet 2 1 1000 0.3333}]" {
		t.Errorf("by channel %s", got)
	}
	// Half to even: 2003 / 2 = 1001.5 → 1002; 2005 / 2 = 1002.5 → 1002.
	for rev, aov := range map[int64]int64{2003: 1002, 2005: 1002, 2007: 1004} {
		if _, f := byChannel([]channelRow{{Source: "app", Orders: 2, PaidOrders: 2, Revenue: rev}}); f.AverageOrderValue != aov {
			t.Errorf("aov of %d / 2 = %d, want %d", rev, f.AverageOrderValue, aov)
		}
	}
	if _, f := byChannel(nil); f.Conversion != 0 || f.AverageOrderValue != 0 || len(f.ChannelShare) != 4 {
		t.Errorf("empty: %+v", f)
	}
}

func TestWindow(t *testing.T) {
	s := New(nil, Config{Now: func() time.Time { return time.Date(2026, 11, 25, 23, 59, 0, 0, time.UTC) }})
	ten := &tenants.Tenant{ID: 1, DefaultCurrency: "CNY"}
	w, err := s.window(ten, Query{})
	if err != nil || w.fromDay() != "2026-10-27" || w.toDay() != "2026-11-25" || w.days != 30 || w.currency != "CNY" {
		t.Errorf("default window: %+v %v", w, err)
	}
	if w, err := s.window(ten, Query{From: "2025-11-25", To: "2026-11-25", Currency: " usd "}); err != nil || w.days != 366 || w.currency != "USD" {
		t.Errorf("366 days: %+v %v", w, err)
	}
	if w, err := s.window(ten, Query{To: "2026-01-10"}); err != nil || w.fromDay() != "2025-12-12" {
		t.Errorf("to only: %+v %v", w, err)
	}
	for _, q := range []Query{{From: "2025-11-24", To: "2026-11-25"}, {From: "2026-11-26", To: "2026-11-25"}, {From: "26-1-1"},
		{To: "2026-13-01"}, {Currency: "XYZ"}, {From: "1999-12-31", To: "2000-01-01"}} {
		if _, err := s.window(ten, q); err == nil {
			t.Errorf("%+v accepted", q)
		}
	}
}
