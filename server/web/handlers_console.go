package web

import (
	"bytes"
	"mime"
	"strings"

	"github.com/gofiber/fiber/v2"

	"saasmall/server/analytics"
	"saasmall/server/apperr"
	"saasmall/tenants"
)

// routesConsoleAPI registers what the staff console needs beyond the mall's
// routes: the dashboard and product CSV import and export. It runs before
// routesMall, so GET /products/export is not taken for a product id.
func (s *Server) routesConsoleAPI() {
	s.tenant(fiber.MethodGet, "/analytics/dashboard", "mall", "read", s.dashboard)
	s.tenant(fiber.MethodGet, "/products/export", "mall", "read", s.exportProducts)
	s.tenant(fiber.MethodPost, "/products/import", "mall", "write", s.importProducts)
	s.tenant(fiber.MethodGet, "/imports/:id", "mall", "read", s.productImport)
}

func (s *Server) dashboard(c *fiber.Ctx) error {
	d, err := s.Analytics.Dashboard(c.UserContext(), analytics.Query{From: c.Query("from"), To: c.Query("to"), Currency: c.Query("currency")})
	if err != nil {
		return err
	}
	return c.JSON(d)
}

func (s *Server) exportProducts(c *fiber.Ctx) error {
	var buf bytes.Buffer
	if err := s.Imports.ExportCSV(c.UserContext(), &buf); err != nil {
		return err
	}
	slug := "store"
	if t := tenants.From(c.UserContext()); t != nil {
		slug = t.Slug
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": "products-" + slug + ".csv"}))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

// importProducts takes the CSV as the body (text/csv, the console's file
// upload) or, for JSON-only clients, as {"csv": "…"}.
func (s *Server) importProducts(c *fiber.Ctx) error {
	ct, _, _ := mime.ParseMediaType(string(c.Request().Header.ContentType()))
	var data []byte
	switch strings.ToLower(ct) {
	case "text/csv":
		data = c.Body()
	case fiber.MIMEApplicationJSON:
		var in struct {
			CSV string `json:"csv"`
		}
		if err := bindJSON(c, &in); err != nil {
			return err
		}
		data = []byte(in.CSV)
	default:
		return &apperr.Error{Kind: apperr.KindInvalid, Code: "unsupported_media_type_csv"}
	}
	v, err := s.Imports.StartImport(c.UserContext(), data)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"id": v.ID, "status": v.Status, "total": v.Total})
}

func (s *Server) productImport(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.Imports.Import(c.UserContext(), id)
	if err != nil {
		return err
	}
	l := s.localizer(c)
	for i := range v.Errors {
		v.Errors[i].Message = l.T(v.Errors[i].MessageID(), v.Errors[i].Args)
	}
	return c.JSON(v)
}
