package web

import (
	"github.com/gofiber/fiber/v2"

	"saasmall/server/mall"
)

// recordReturn: POST /api/v1/t/{tenant}/orders/{id}/returns (warehouse:write).
func (s *Server) recordReturn(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in mall.ReturnInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	r, err := s.Mall.RecordReturn(c.UserContext(), id, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(r)
}

// orderReturns: GET /api/v1/t/{tenant}/orders/{id}/returns (mall:read).
func (s *Server) orderReturns(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	rs, err := s.Mall.OrderReturns(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(rs)
}
