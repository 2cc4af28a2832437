package server

import (
	"context"
	"errors"

	"saasmall/server/apperr"
	"saasmall/server/auth"
	"saasmall/tenants"
)

// DemoLogin is a demo account printed at start.
type DemoLogin struct {
	Role     string
	Tenant   string
	Email    string
	Password string
}

// DemoPassword is every demo account's password.
const DemoPassword = "saasmall-demo-2026"

// SeedDemo seeds, once, two tenants (a SaaS vendor and a goods seller),
// staff in several roles, a shopper and a platform operator. Running it again
// changes nothing and returns the same sign-ins.
func SeedDemo(ctx context.Context, s *Server) ([]DemoLogin, error) {
	logins := []DemoLogin{
		{Role: "platform operator", Email: "operator@saasmall.test"},
		{Role: "shopper", Email: "shopper@saasmall.test"},
		{Role: "owner", Tenant: "cloudnine", Email: "owner@cloudnine.test"},
		{Role: "store_manager", Tenant: "cloudnine", Email: "manager@cloudnine.test"},
		{Role: "accountant", Tenant: "cloudnine", Email: "accountant@cloudnine.test"},
		{Role: "owner", Tenant: "gearhub", Email: "owner@gearhub.test"},
		{Role: "warehouse_clerk", Tenant: "gearhub", Email: "clerk@gearhub.test"},
		{Role: "logistics_clerk", Tenant: "gearhub", Email: "shipping@gearhub.test"},
	}
	for i := range logins {
		logins[i].Password = DemoPassword
	}
	if _, err := s.Tenants.BySlug(ctx, "cloudnine"); err == nil {
		return logins, nil // seeded before
	} else if !errors.Is(err, tenants.ErrTenantNotFound) {
		return nil, err
	}
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		if _, err := s.Auth.CreateUser(ctx, auth.RegisterInput{Email: logins[0].Email, Password: DemoPassword, Name: "Platform Operator"}, true); err != nil {
			return err
		}
		if _, err := s.Auth.CreateUser(ctx, auth.RegisterInput{Email: logins[1].Email, Password: DemoPassword, Name: "Sam Shopper"}, false); err != nil {
			return err
		}
		tax := 600
		specs := []tenants.CreateInput{
			{Slug: "cloudnine", Name: "CloudNine Software", DefaultCurrency: "USD", DefaultLocale: "en", TaxRateBP: &tax,
				AdminEmail: "owner@cloudnine.test", AdminPassword: DemoPassword, AdminName: "Chloe Owner"},
			{Slug: "gearhub", Name: "GearHub 装备行", DefaultCurrency: "CNY", DefaultLocale: "zh-Hans", TaxRateBP: &tax,
				AdminEmail: "owner@gearhub.test", AdminPassword: DemoPassword, AdminName: "王店主"},
		}
		for _, in := range specs {
			t, err := s.Tenants.Create(ctx, in)
			if err != nil {
				return err
			}
			if err := seedDemoCatalog(ctx, s, t); err != nil {
				return err
			}
			tctx := tenants.WithTenant(ctx, t)
			for _, l := range logins {
				if l.Tenant != t.Slug || l.Role == "owner" {
					continue
				}
				if _, err := s.Auth.CreateUser(ctx, auth.RegisterInput{Email: l.Email, Password: DemoPassword, Name: l.Role + " @ " + t.Name}, false); err != nil && !errors.Is(err, apperr.Conflict("email_taken")) {
					return err
				}
				if _, err := s.Tenants.AddMember(tctx, tenants.AddMemberInput{Email: l.Email, Roles: []string{l.Role}}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return logins, nil
}
