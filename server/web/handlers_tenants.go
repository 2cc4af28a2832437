package web

import (
	"github.com/gofiber/fiber/v2"

	"saasmall/policies"
	"saasmall/server/apperr"
	"saasmall/server/audit"
	"saasmall/server/store"
	"saasmall/tenants"
)

func (s *Server) routesTenants() {
	s.platform(fiber.MethodPost, "/api/v1/tenants", s.createTenant)
	s.platform(fiber.MethodGet, "/api/v1/tenants", s.listTenants)
	s.platform(fiber.MethodPatch, "/api/v1/tenants/:slug", s.setTenantStatus)

	s.tenant(fiber.MethodGet, "/members", "admin", "read", s.listMembers)
	s.tenant(fiber.MethodPost, "/members", "admin", "write", s.addMember)
	s.tenant(fiber.MethodGet, "/members/:user", "admin", "read", s.getMember)
	s.tenant(fiber.MethodPut, "/members/:user/roles", "admin", "write", s.setMemberRoles)
	s.tenant(fiber.MethodDelete, "/members/:user", "admin", "write", s.removeMember)

	s.tenant(fiber.MethodGet, "/roles", "admin", "read", s.listRoles)
	s.tenant(fiber.MethodPost, "/roles", "admin", "write", s.createRole)
	s.tenant(fiber.MethodPut, "/roles/:name", "admin", "write", s.updateRole)
	s.tenant(fiber.MethodDelete, "/roles/:name", "admin", "write", s.deleteRole)

	s.tenant(fiber.MethodGet, "/policies", "admin", "read", s.listPolicies)
	s.tenant(fiber.MethodPost, "/policies", "admin", "write", s.addPolicy)
	s.tenant(fiber.MethodDelete, "/policies", "admin", "write", s.deletePolicy)

	s.tenant(fiber.MethodGet, "/audit", "admin", "read", s.listAudit)
}

func (s *Server) createTenant(c *fiber.Ctx) error {
	var in tenants.CreateInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	t, err := s.Tenants.Create(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(t)
}

func (s *Server) setTenantStatus(c *fiber.Ctx) error {
	var in tenants.StatusInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	t, err := s.Tenants.SetStatus(c.UserContext(), c.Params("slug"), in)
	if err != nil {
		return err
	}
	return c.JSON(t)
}

func pageReq(c *fiber.Ctx) (store.PageRequest, error) {
	var p store.PageRequest
	f := apperr.Fields{}
	if v := c.Query("page"); v != "" {
		if p.Page = c.QueryInt("page", -1); p.Page < 1 {
			f.Add("page", "invalid_number")
		}
	}
	if v := c.Query("per_page"); v != "" {
		if p.PerPage = c.QueryInt("per_page", -1); p.PerPage < 1 || p.PerPage > store.MaxPerPage {
			f.Add("per_page", "out_of_range", "Min", 1, "Max", store.MaxPerPage)
		}
	}
	return p.Normalize(), f.Err()
}

func (s *Server) listTenants(c *fiber.Ctx) error {
	p, err := pageReq(c)
	if err != nil {
		return err
	}
	page, err := s.Tenants.List(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) listMembers(c *fiber.Ctx) error {
	p, err := pageReq(c)
	if err != nil {
		return err
	}
	page, err := s.Tenants.Members(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) addMember(c *fiber.Ctx) error {
	var in tenants.AddMemberInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	m, err := s.Tenants.AddMember(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(m)
}

func (s *Server) getMember(c *fiber.Ctx) error {
	id, err := pathID(c, "user")
	if err != nil {
		return err
	}
	m, err := s.Tenants.Member(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

func (s *Server) setMemberRoles(c *fiber.Ctx) error {
	id, err := pathID(c, "user")
	if err != nil {
		return err
	}
	var in struct {
		Roles []string `json:"roles"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	m, err := s.Tenants.SetMemberRoles(c.UserContext(), id, in.Roles)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

func (s *Server) removeMember(c *fiber.Ctx) error {
	id, err := pathID(c, "user")
	if err != nil {
		return err
	}
	if err := s.Tenants.RemoveMember(c.UserContext(), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) listRoles(c *fiber.Ctx) error {
	rs, err := s.Policies.ListRoles(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": rs})
}

func (s *Server) createRole(c *fiber.Ctx) error {
	var in policies.RoleInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	r, err := s.Policies.CreateRole(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(r)
}

func (s *Server) updateRole(c *fiber.Ctx) error {
	var in policies.RoleInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	r, err := s.Policies.UpdateRole(c.UserContext(), c.Params("name"), in)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *Server) deleteRole(c *fiber.Ctx) error {
	if err := s.Policies.DeleteRole(c.UserContext(), c.Params("name")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) listPolicies(c *fiber.Ctx) error {
	ps, err := s.Policies.ListPolicies(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": ps})
}

// policyInput is a direct grant of (object, action) to a member.
type policyInput struct {
	UserID int64  `json:"user_id" query:"user_id"`
	Object string `json:"object" query:"object"`
	Action string `json:"action" query:"action"`
}

func (s *Server) memberPolicy(c *fiber.Ctx, in policyInput) (policies.Policy, error) {
	if in.UserID <= 0 {
		return policies.Policy{}, apperr.Invalid("user_id", "required")
	}
	if _, err := s.Tenants.Member(c.UserContext(), in.UserID); err != nil {
		if apperr.KindOf(err) == apperr.KindNotFound {
			return policies.Policy{}, apperr.Invalid("user_id", "not_a_member")
		}
		return policies.Policy{}, err
	}
	return policies.Policy{UserID: in.UserID, Object: in.Object, Action: in.Action}, nil
}

func (s *Server) addPolicy(c *fiber.Ctx) error {
	var in policyInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	p, err := s.memberPolicy(c, in)
	if err != nil {
		return err
	}
	out, err := s.Policies.AddPolicy(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(out)
}

func (s *Server) deletePolicy(c *fiber.Ctx) error {
	var in policyInput
	if err := c.QueryParser(&in); err != nil {
		return apperr.Invalid("user_id", "invalid_number")
	}
	p, err := s.memberPolicy(c, in)
	if err != nil {
		return err
	}
	if err := s.Policies.DeletePolicy(c.UserContext(), p); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) listAudit(c *fiber.Ctx) error {
	p, err := pageReq(c)
	if err != nil {
		return err
	}
	q := audit.Query{PageRequest: p, Action: c.Query("action")}
	if v := c.Query("actor"); v != "" {
		if q.ActorUserID = int64(c.QueryInt("actor", -1)); q.ActorUserID <= 0 {
			return apperr.Invalid("actor", "invalid_number")
		}
	}
	page, err := s.Audit.List(c.UserContext(), q)
	if err != nil {
		return err
	}
	return c.JSON(page)
}
