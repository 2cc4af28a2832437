package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"

	"saasmall/server/apperr"
)

// bindJSON decodes the request body into v strictly: the body must be JSON
// (by Content-Type), one object, with no unknown fields and the right types.
// Every failure is a 4xx with the offending field named.
func bindJSON(c *fiber.Ctx, v any) error {
	ct := strings.ToLower(string(c.Request().Header.ContentType()))
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if strings.TrimSpace(ct) != fiber.MIMEApplicationJSON {
		return &apperr.Error{Kind: apperr.KindInvalid, Code: "unsupported_media_type"}
	}
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return &apperr.Error{Kind: apperr.KindInvalid, Code: "empty_body"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &apperr.Error{Kind: apperr.KindInvalid, Code: "malformed_json", Args: map[string]any{"Detail": "trailing data after the JSON value"}}
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return &apperr.Error{Kind: apperr.KindInvalid, Code: "malformed_json", Args: map[string]any{"Detail": syn.Error()}, Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &apperr.Error{Kind: apperr.KindInvalid, Code: "malformed_json", Args: map[string]any{"Detail": "unexpected end of input"}, Err: err}
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return &apperr.Error{Kind: apperr.KindInvalid, Code: "malformed_json", Args: map[string]any{"Detail": "expected a JSON " + typ.Type.Kind().String()}, Err: err}
		}
		return apperr.Invalid(field, "invalid_type", "Want", jsonKind(typ.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return apperr.Invalid(name, "unknown_field")
	}
	return &apperr.Error{Kind: apperr.KindInvalid, Code: "malformed_json", Args: map[string]any{"Detail": err.Error()}, Err: err}
}

func jsonKind(k string) string {
	switch k {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "number"
	case "slice", "array":
		return "array"
	case "map", "struct":
		return "object"
	case "bool":
		return "boolean"
	}
	return k
}
