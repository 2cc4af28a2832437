package web

import (
	"context"
	_ "embed"
	"time"

	"github.com/gofiber/fiber/v2"

	"saasmall/server/apperr"
)

//go:embed openapi.json
var openapiJSON []byte

func (s *Server) routesAll() {
	s.public(fiber.MethodGet, "/healthz", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"status": "ok"})
	})
	s.public(fiber.MethodGet, "/readyz", s.readyz)
	s.public(fiber.MethodGet, "/api/v1/openapi.json", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Send(openapiJSON)
	})
	s.routesAuth()
	s.routesTenants()
	s.routesConsoleAPI() // before routesMall: GET /products/export must win over /products/:id
	s.routesMall()
	s.routesStorefront()
	s.routesConsole()
}

func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.DB.Ping(ctx); err != nil {
		return &apperr.Error{Kind: apperr.KindUnavailable, Code: "not_ready", Err: err}
	}
	return c.JSON(fiber.Map{"status": "ready"})
}
