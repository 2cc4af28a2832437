package web

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"saasmall/server/apperr"
)

// statusOf maps an error kind to its HTTP status: the one place it is done.
func statusOf(k apperr.Kind) int {
	switch k {
	case apperr.KindInvalid:
		return fiber.StatusBadRequest
	case apperr.KindUnauthenticated:
		return fiber.StatusUnauthorized
	case apperr.KindForbidden:
		return fiber.StatusForbidden
	case apperr.KindNotFound:
		return fiber.StatusNotFound
	case apperr.KindConflict:
		return fiber.StatusConflict
	case apperr.KindUnprocessable:
		return fiber.StatusUnprocessableEntity
	case apperr.KindRateLimited:
		return fiber.StatusTooManyRequests
	case apperr.KindTooLarge:
		return fiber.StatusRequestEntityTooLarge
	case apperr.KindGone:
		return fiber.StatusGone
	case apperr.KindPaymentRequired:
		return fiber.StatusPaymentRequired
	case apperr.KindMethodNotAllowed:
		return fiber.StatusMethodNotAllowed
	case apperr.KindTimeout:
		return fiber.StatusRequestTimeout
	case apperr.KindUnavailable:
		return fiber.StatusServiceUnavailable
	}
	return fiber.StatusInternalServerError
}

// fromFiber turns Fiber's own errors (unknown route, body over the limit…)
// into application errors.
func fromFiber(fe *fiber.Error) *apperr.Error {
	switch fe.Code {
	case fiber.StatusNotFound:
		return apperr.New(apperr.KindNotFound, "route_not_found")
	case fiber.StatusMethodNotAllowed:
		return &apperr.Error{Kind: apperr.KindMethodNotAllowed, Code: "method_not_allowed"}
	case fiber.StatusRequestEntityTooLarge:
		return apperr.New(apperr.KindTooLarge, "body_too_large")
	case fiber.StatusUnsupportedMediaType:
		return &apperr.Error{Kind: apperr.KindInvalid, Code: "unsupported_media_type"}
	case fiber.StatusRequestTimeout:
		return &apperr.Error{Kind: apperr.KindTimeout, Code: "request_timeout"}
	}
	if fe.Code >= 400 && fe.Code < 500 {
		return &apperr.Error{Kind: apperr.KindInvalid, Code: "bad_request"}
	}
	return apperr.Internal(fe)
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string                 `json:"code"`
	Message   string                 `json:"message"`
	Fields    map[string]fieldDetail `json:"fields,omitempty"`
	RequestID string                 `json:"request_id,omitempty"`
}

type fieldDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// errorHandler answers every error in one JSON shape, translated.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	var ae *apperr.Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &fe):
		ae = fromFiber(fe)
	default:
		ae = apperr.Internal(err)
	}
	status := statusOf(ae.Kind)
	rid, _ := c.Locals(localRequestID).(string)
	if status >= 500 {
		s.log.Error("request failed", "request_id", rid, "method", c.Method(), "path", c.Path(), "err", err)
	} else if ae.Err != nil {
		s.log.Debug("request refused", "request_id", rid, "code", ae.Code, "err", ae.Err)
	}
	if wantsHTMLError(c) {
		return s.errorPage(c, status, ae) // storefront pages: a translated HTML page
	}
	l := s.localizer(c)
	body := errorBody{Error: errorDetail{Code: ae.Code, Message: l.T(ae.MsgID(), ae.Args), RequestID: rid}}
	if len(ae.Fields) > 0 {
		body.Error.Fields = make(map[string]fieldDetail, len(ae.Fields))
		for name, f := range ae.Fields {
			body.Error.Fields[name] = fieldDetail{Code: f.Code, Message: l.T("field."+f.Code, f.Args)}
		}
	}
	if ae.RetryAfter > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int((ae.RetryAfter+999_999_999)/1_000_000_000)))
	}
	if status == fiber.StatusUnauthorized {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="saasmall"`)
	}
	return c.Status(status).JSON(body)
}
