package web

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	qrcode "github.com/skip2/go-qrcode"

	"saasmall/policies"
	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/auth"
	"saasmall/tenants"
)

func (s *Server) routesAuth() {
	s.public(fiber.MethodPost, "/api/v1/auth/register", s.register)
	s.public(fiber.MethodPost, "/api/v1/auth/login", s.login)
	s.public(fiber.MethodPost, "/api/v1/auth/handoff/redeem", s.redeemHandoff)
	s.signed(fiber.MethodPost, "/api/v1/auth/logout", s.logout)
	s.signed(fiber.MethodGet, "/api/v1/auth/sessions", s.sessions)
	s.signed(fiber.MethodDelete, "/api/v1/auth/sessions/:id", s.revokeSession)
	s.signed(fiber.MethodPost, "/api/v1/auth/handoff", s.createHandoff)
	s.signed(fiber.MethodGet, "/api/v1/me", s.me)
	s.signed(fiber.MethodPatch, "/api/v1/me", s.updateMe)
	s.signed(fiber.MethodPut, "/api/v1/me/password", s.changePassword)
}

func meta(c *fiber.Ctx) auth.Meta {
	return auth.Meta{Source: actor.Source(c.UserContext()), UserAgent: c.Get(fiber.HeaderUserAgent), IP: c.IP()}
}

// signedIn sets the web cookies (the session cookie is HttpOnly; the CSRF
// cookie is readable by the console's script) and renders the sign-in.
func (s *Server) signedIn(c *fiber.Ctx, status int, in *auth.SignIn) error {
	secure := c.Protocol() == "https"
	c.Cookie(&fiber.Cookie{Name: SessionCookie, Value: in.Token, Path: "/", Expires: in.Session.ExpiresAt,
		HTTPOnly: true, Secure: secure, SameSite: fiber.CookieSameSiteLaxMode})
	c.Cookie(&fiber.Cookie{Name: CSRFCookie, Value: in.CSRFToken, Path: "/", Expires: in.Session.ExpiresAt,
		Secure: secure, SameSite: fiber.CookieSameSiteLaxMode})
	return c.Status(status).JSON(in)
}

func clearCookies(c *fiber.Ctx) {
	for _, n := range []string{SessionCookie, CSRFCookie} {
		c.Cookie(&fiber.Cookie{Name: n, Value: "", Path: "/", Expires: time.Unix(0, 0), MaxAge: -1, HTTPOnly: n == SessionCookie, SameSite: fiber.CookieSameSiteLaxMode})
	}
}

func (s *Server) register(c *fiber.Ctx) error {
	var in auth.RegisterInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	out, err := s.Auth.Register(c.UserContext(), in, meta(c))
	if err != nil {
		return err
	}
	return s.signedIn(c, fiber.StatusCreated, out)
}

func (s *Server) login(c *fiber.Ctx) error {
	var in auth.LoginInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	out, err := s.Auth.Login(c.UserContext(), in, meta(c))
	if err != nil {
		return err
	}
	return s.signedIn(c, fiber.StatusOK, out)
}

func (s *Server) logout(c *fiber.Ctx) error {
	if err := s.Auth.Logout(c.UserContext()); err != nil {
		return err
	}
	clearCookies(c)
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) sessions(c *fiber.Ctx) error {
	ss, err := s.Auth.Sessions(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": ss})
}

func pathID(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.Invalid(name, "invalid_id")
	}
	return id, nil
}

func (s *Server) revokeSession(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.Auth.RevokeSession(c.UserContext(), id); err != nil {
		return err
	}
	if id == current(c).Session.ID {
		clearCookies(c)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// handoffView is a hand-off code with what a web page needs to show it: the
// link another device opens, and that link as a QR code.
type handoffView struct {
	*auth.Handoff
	URL    string `json:"url"`
	QRCode string `json:"qr_png"` // data: URL of a PNG
}

func (s *Server) createHandoff(c *fiber.Ctx) error {
	h, err := s.Auth.CreateHandoff(c.UserContext())
	if err != nil {
		return err
	}
	base := s.cfg.BaseURL
	if base == "" {
		base = c.BaseURL()
	}
	url := strings.TrimRight(base, "/") + "/handoff?code=" + h.Code
	png, err := qrcode.Encode(url, qrcode.Medium, 256)
	if err != nil {
		return apperr.Internal(err)
	}
	return c.Status(fiber.StatusCreated).JSON(handoffView{Handoff: h, URL: url,
		QRCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)})
}

func (s *Server) redeemHandoff(c *fiber.Ctx) error {
	var in struct {
		Code string `json:"code"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	out, err := s.Auth.RedeemHandoff(c.UserContext(), in.Code, meta(c))
	if err != nil {
		return err
	}
	return s.signedIn(c, fiber.StatusOK, out)
}

func (s *Server) me(c *fiber.Ctx) error {
	ctx := c.UserContext()
	cur := current(c)
	roles, err := s.Policies.UserMemberships(ctx, cur.Actor.UserID)
	if err != nil {
		return err
	}
	ms, err := s.Tenants.MembershipsOf(ctx, roles)
	if err != nil {
		return err
	}
	for i := range ms {
		for _, obj := range policies.Objects {
			for _, act := range policies.Actions {
				ok, err := s.Policies.Enforce(ctx, ms[i].Tenant.ID, cur.Actor.UserID, obj, act)
				if err != nil {
					return err
				}
				if ok {
					ms[i].Permissions = append(ms[i].Permissions, tenants.Grant{Object: obj, Action: act})
				}
			}
		}
	}
	a := cur.Actor
	return c.JSON(fiber.Map{
		"user": fiber.Map{"id": a.UserID, "email": a.Email, "name": a.Name, "locale": a.Locale,
			"platform_operator": a.PlatformOperator},
		"memberships":   ms,
		"client_source": actor.Source(ctx),
		"session":       fiber.Map{"id": cur.Session.ID, "client_source": cur.Session.ClientSource, "created_at": cur.Session.CreatedAt},
	})
}

func (s *Server) updateMe(c *fiber.Ctx) error {
	var in auth.ProfileInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	u, err := s.Auth.UpdateProfile(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (s *Server) changePassword(c *fiber.Ctx) error {
	var in auth.ChangePasswordInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	out, err := s.Auth.ChangePassword(c.UserContext(), in, meta(c))
	if err != nil {
		return err
	}
	return s.signedIn(c, fiber.StatusOK, out)
}
