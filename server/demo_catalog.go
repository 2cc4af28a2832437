package server

import (
	"context"

	"saasmall/server/mall"
	"saasmall/server/warehouse"
	"saasmall/tenants"
)

func plan(tier, interval string, perSeat bool, trial int, features ...string) *mall.PlanInput {
	return &mall.PlanInput{Tier: tier, Interval: interval, PerSeat: perSeat, TrialDays: trial, Features: features}
}

func prices(usd, cny int64) []mall.PriceInput {
	return []mall.PriceInput{{Amount: usd, Currency: "USD"}, {Amount: cny, Currency: "CNY"}}
}

// demoCatalog is what the demo stores sell.
var demoCatalog = map[string][]mall.ProductInput{
	"cloudnine": {
		{Kind: mall.KindSaaS, Name: "CloudNine CRM", Category: "CRM", Status: mall.StatusActive,
			Summary:     "Pipeline, contacts and email in one place for growing sales teams.",
			Description: "Track every deal from first touch to signed contract. Shared inboxes, reminders and a forecast your board can trust.",
			Attributes:  []mall.Attribute{{Key: "Deployment", Value: "Cloud"}, {Key: "Support", Value: "24/7 chat"}, {Key: "SSO", Value: "SAML"}},
			SKUs: []mall.SKUInput{
				{Code: "CRM-FREE", Name: "Free", Prices: prices(0, 0), Plan: plan(mall.TierFree, mall.IntervalMonth, false, 0, "2 users", "1,000 contacts")},
				{Code: "CRM-TEAM", Name: "Team", Prices: prices(1200, 8500), Plan: plan(mall.TierPaid, mall.IntervalMonth, true, 14, "Unlimited contacts", "Email sync", "Forecasts")},
				{Code: "CRM-BIZ-Y", Name: "Business (yearly)", Prices: prices(28800, 199900), Plan: plan(mall.TierPaid, mall.IntervalYear, true, 0, "Unlimited contacts", "Email sync", "Forecasts", "SAML SSO", "Audit log")},
			}},
		{Kind: mall.KindSaaS, Name: "CloudNine Helpdesk", Category: "Customer support", Status: mall.StatusActive,
			Summary:    "Ticketing and live chat with SLAs, macros and a customer portal.",
			Attributes: []mall.Attribute{{Key: "Deployment", Value: "Cloud"}, {Key: "Support", Value: "Business hours"}, {Key: "SSO", Value: "OIDC"}},
			SKUs: []mall.SKUInput{
				{Code: "HD-AGENT", Name: "Agent", Prices: prices(1900, 13500), Plan: plan(mall.TierPaid, mall.IntervalMonth, true, 0, "Tickets", "Live chat", "SLAs")},
				{Code: "HD-FLAT", Name: "Small team (flat)", Prices: prices(4900, 34900), Plan: plan(mall.TierPaid, mall.IntervalMonth, false, 7, "Tickets", "5 agents")},
			}},
		{Kind: mall.KindSaaS, Name: "Nightly Backup add-on", Category: "Add-ons", Status: mall.StatusActive,
			Summary:    "Encrypted nightly backups of your CloudNine data, kept for 90 days.",
			Attributes: []mall.Attribute{{Key: "Deployment", Value: "Cloud"}, {Key: "Retention", Value: "90 days"}},
			SKUs: []mall.SKUInput{
				{Code: "ADD-BACKUP", Name: "Backup", Prices: prices(500, 3500), Plan: plan(mall.TierAddon, mall.IntervalMonth, false, 0, "Nightly backups", "90-day retention")},
			}},
	},
	"gearhub": {
		{Kind: mall.KindGoods, Name: "K8 Mechanical Keyboard 机械键盘", Category: "Keyboards", Status: mall.StatusActive,
			Summary:    "Hot-swappable 75% keyboard with brown switches. 热插拔 75% 配列。",
			Attributes: []mall.Attribute{{Key: "Layout", Value: "75%"}, {Key: "Connection", Value: "USB-C"}, {Key: "Color", Value: "Grey"}},
			SKUs: []mall.SKUInput{
				{Code: "K8-BRN", Name: "Brown switches", Prices: prices(8900, 59900), WeightGrams: 950, HSCode: "847160", OriginCountry: "CN"},
				{Code: "K8-RED", Name: "Red switches", Prices: prices(8900, 59900), WeightGrams: 950, HSCode: "847160", OriginCountry: "CN"},
			}},
		{Kind: mall.KindGoods, Name: "USB-C Dock 7-in-1 扩展坞", Category: "Accessories", Status: mall.StatusActive,
			Summary:    "HDMI 4K, 3× USB-A, SD, 100 W pass-through charging.",
			Attributes: []mall.Attribute{{Key: "Connection", Value: "USB-C"}, {Key: "Color", Value: "Silver"}},
			SKUs: []mall.SKUInput{
				{Code: "DOCK-7", Name: "7-in-1", Prices: prices(4500, 29900), WeightGrams: 180, HSCode: "847330", OriginCountry: "CN"},
			}},
		{Kind: mall.KindGoods, Name: "Quiet Pro Headphones 降噪耳机", Category: "Audio", Status: mall.StatusActive,
			Summary:    "Active noise cancelling, 40 h battery, multipoint Bluetooth.",
			Attributes: []mall.Attribute{{Key: "Connection", Value: "Bluetooth"}, {Key: "Color", Value: "Black"}},
			SKUs: []mall.SKUInput{
				{Code: "QP-BLK", Name: "Black", Prices: prices(12900, 89900), WeightGrams: 260, HSCode: "851830", OriginCountry: "VN"},
			}},
	},
}

// seedDemoCatalog adds the demo products and their stock to a new demo tenant.
func seedDemoCatalog(ctx context.Context, s *Server, t *tenants.Tenant) error {
	ctx = tenants.WithTenant(ctx, t)
	var sup *warehouse.Supplier
	for _, in := range demoCatalog[t.Slug] {
		p, err := s.Mall.CreateProduct(ctx, in)
		if err != nil {
			return err
		}
		if p.Kind != mall.KindGoods {
			continue
		}
		if sup == nil { // goods come from a supplier, kept stocked by reorder rules
			if sup, err = s.Stock.CreateSupplier(ctx, warehouse.SupplierInput{Code: "SZ-PARTS", Name: "Shenzhen Parts Co. 深圳配件",
				ContactName: "Li Wei", Email: "orders@szparts.example", Currency: t.DefaultCurrency, LeadTimeDays: 5, PaymentTerms: "NET30"}); err != nil {
				return err
			}
		}
		for i, k := range p.SKUs {
			in := warehouse.Adjustment{SKUID: k.ID, Delta: int64(40 + 20*i), Reason: "opening stock"}
			var cost int64
			for _, pr := range k.Prices {
				if pr.Currency == t.DefaultCurrency {
					cost = pr.Amount * 55 / 100 // bought at 55 % of the shelf price
					in.UnitCost = &cost
				}
			}
			if _, err := s.Mall.AdjustStock(ctx, in); err != nil {
				return err
			}
			if _, err := s.Stock.SetSupplierSKU(ctx, sup.ID, warehouse.SupplierSKUInput{SKUID: k.ID, SupplierCode: "SZ-" + k.Code,
				UnitCost: cost, MinOrderQty: 20, PackSize: 10}); err != nil {
				return err
			}
			if _, err := s.Stock.SetReorderRule(ctx, warehouse.ReorderRuleInput{SKUID: k.ID, MinQty: 15, MaxQty: 60,
				PreferredSupplierID: &sup.ID}); err != nil {
				return err
			}
		}
	}
	return nil
}
