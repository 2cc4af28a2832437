package web

import (
	"bytes"
	"mime"
	"strings"

	"github.com/gofiber/fiber/v2"

	"saasmall/server/analytics"
	"saasmall/server/apperr"
	"saasmall/server/mall"
	"saasmall/server/warehouse"
	"saasmall/tenants"
)

// routesConsoleAPI registers what the staff console needs beyond the
// modules' routes: the dashboard, product CSV export, and the CSV imports
// (products, a count sheet's counts, a supplier's price list) with their
// progress. It runs before routesMall, so GET /products/export is not taken
// for a product id.
func (s *Server) routesConsoleAPI() {
	s.tenant(fiber.MethodGet, "/analytics/dashboard", "mall", "read", s.dashboard)
	s.tenant(fiber.MethodGet, "/products/export", "mall", "read", s.exportProducts)
	s.tenant(fiber.MethodPost, "/products/import", "mall", "write", s.startImport(mall.ImportKind, ""))
	s.tenant(fiber.MethodPost, "/counts/:id/import", "warehouse", "write", s.startImport(warehouse.CountImportKind, "id"))
	s.tenant(fiber.MethodPost, "/suppliers/:id/skus/import", "warehouse", "write", s.startImport(warehouse.PriceListImportKind, "id"))
	// Any kind of import: the route needs mall read (every role's), the
	// handler also the read permission of the import's module.
	s.tenant(fiber.MethodGet, "/imports/:id", "mall", "read", s.getImport)
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
	if err := s.ProductCSV.ExportCSV(c.UserContext(), &buf); err != nil {
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

// startImport starts an import of kind, into the target named by the path
// parameter param ("" for none). The CSV is the body (text/csv, the
// console's file upload) or, for JSON-only clients, {"csv": "…"}.
func (s *Server) startImport(kind, param string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var target int64
		if param != "" {
			id, err := pathID(c, param)
			if err != nil {
				return err
			}
			target = id
		}
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
		v, err := s.Imports.Start(c.UserContext(), kind, target, data)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"id": v.ID, "status": v.Status, "total": v.Total})
	}
}

// getImport answers an import's progress and errors, translated, to staff
// who may read its module.
func (s *Server) getImport(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.Imports.Import(c.UserContext(), id)
	if err != nil {
		return err
	}
	if v.Module != "mall" {
		if err := s.allowed(c, v.Module, "read"); err != nil {
			return err
		}
	}
	l := s.localizer(c)
	for i := range v.Errors {
		v.Errors[i].Message = l.T(v.Errors[i].MessageID(), v.Errors[i].Args)
	}
	return c.JSON(v)
}
