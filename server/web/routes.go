package web

import (
	"github.com/gofiber/fiber/v2"

	"saasmall/server/apperr"
	"saasmall/tenants"
)

// AccessKind says who may call a route.
type AccessKind int

const (
	accessUndeclared AccessKind = iota
	AccessPublic                // anyone, signed in or not
	AccessSigned                // any signed-in account (shopper self-service)
	AccessPlatform              // platform operators
	AccessTenant                // members of the route's tenant holding (Module, Action)
)

// Access is what a route declares about who may call it.
type Access struct {
	Kind   AccessKind
	Module string // for AccessTenant: mall docking warehouse logistics finance admin
	Action string // read write approve
}

// Route is one entry of the route table.
type Route struct {
	Method string
	Path   string
	Access Access
}

var apperrCSRF = apperr.Error{Kind: apperr.KindForbidden, Code: "csrf_failed"}

// handle registers a route with its declared access. Every route goes
// through here: a test walks Fiber's route table and fails on any route that
// is not in s.routes.
func (s *Server) handle(method, path string, a Access, h fiber.Handler) {
	s.routes = append(s.routes, Route{Method: method, Path: path, Access: a})
	var guard fiber.Handler
	add := func(handlers ...fiber.Handler) {
		s.app.Add(method, path, handlers...)
		if method == fiber.MethodGet { // HEAD answers like GET, without the body (monitors, link checkers)
			s.app.Add(fiber.MethodHead, path, handlers...)
		}
	}
	switch a.Kind {
	case AccessPublic:
		add(h)
		return
	case AccessSigned:
		guard = s.requireSigned
	case AccessPlatform:
		guard = s.requirePlatform
	case AccessTenant:
		guard = s.requireTenant(a.Module, a.Action)
	default:
		panic("web: route " + method + " " + path + " declares no access")
	}
	add(guard, h)
}

func (s *Server) public(method, path string, h fiber.Handler) {
	s.handle(method, path, Access{Kind: AccessPublic}, h)
}

func (s *Server) signed(method, path string, h fiber.Handler) {
	s.handle(method, path, Access{Kind: AccessSigned}, h)
}

func (s *Server) platform(method, path string, h fiber.Handler) {
	s.handle(method, path, Access{Kind: AccessPlatform}, h)
}

// tenant registers a staff route under /api/v1/t/:tenant.
func (s *Server) tenant(method, path, module, action string, h fiber.Handler) {
	s.handle(method, "/api/v1/t/:tenant"+path, Access{Kind: AccessTenant, Module: module, Action: action}, h)
}

func (s *Server) requireSigned(c *fiber.Ctx) error {
	if current(c) == nil {
		if err, ok := c.Locals(localAuthErr).(error); ok {
			return err
		}
		return apperr.ErrUnauthorized
	}
	return c.Next()
}

func (s *Server) requirePlatform(c *fiber.Ctx) error {
	cur := current(c)
	if cur == nil {
		if err, ok := c.Locals(localAuthErr).(error); ok {
			return err
		}
		return apperr.ErrUnauthorized
	}
	if !cur.Actor.PlatformOperator {
		return apperr.Forbidden()
	}
	return c.Next()
}

// requireTenant resolves the tenant from the path, checks membership (a
// non-member gets 404, as for an unknown tenant, so tenants cannot be probed)
// and then the route's permission from memory (403).
func (s *Server) requireTenant(module, action string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		cur := current(c)
		if cur == nil {
			if err, ok := c.Locals(localAuthErr).(error); ok {
				return err
			}
			return apperr.ErrUnauthorized
		}
		ctx := c.UserContext()
		t, err := s.Tenants.BySlug(ctx, c.Params("tenant"))
		if err != nil {
			return err
		}
		member, err := s.Tenants.IsMember(ctx, t.ID, cur.Actor.UserID)
		if err != nil {
			return err
		}
		if !member {
			return tenants.ErrTenantNotFound
		}
		ok, err := s.Policies.Enforce(ctx, t.ID, cur.Actor.UserID, module, action)
		if err != nil {
			return apperr.Internal(err)
		}
		if !ok {
			return apperr.Forbidden()
		}
		c.Locals(localTenant, t)
		c.SetUserContext(tenants.WithTenant(ctx, t))
		return c.Next()
	}
}

// allowed checks, inside a tenant route, that the caller also holds
// (module, action) in the route's tenant: for a handler whose permission
// depends on what it finds (an import's module). Errors: forbidden,
// unauthenticated, internal.
func (s *Server) allowed(c *fiber.Ctx, module, action string) error {
	cur := current(c)
	t, _ := c.Locals(localTenant).(*tenants.Tenant)
	if cur == nil || t == nil {
		return apperr.ErrUnauthorized
	}
	ok, err := s.Policies.Enforce(c.UserContext(), t.ID, cur.Actor.UserID, module, action)
	if err != nil {
		return apperr.Internal(err)
	}
	if !ok {
		return apperr.Forbidden()
	}
	return nil
}
