package store

import (
	"strconv"

	"gorm.io/gorm"
)

// PageRequest is a 1-based page of a list. Zero values mean the defaults.
type PageRequest struct {
	Page    int `query:"page" json:"page"`
	PerPage int `query:"per_page" json:"per_page"`
}

// MaxPerPage bounds every list.
const MaxPerPage = 100

// Normalize clamps the request to 1 ≤ page, 1 ≤ per_page ≤ MaxPerPage (default 20).
func (p PageRequest) Normalize() PageRequest {
	if p.Page < 1 {
		p.Page = 1
	}
	if p.PerPage < 1 {
		p.PerPage = 20
	}
	if p.PerPage > MaxPerPage {
		p.PerPage = MaxPerPage
	}
	return p
}

// Scope applies LIMIT/OFFSET for the (normalized) page.
func (p PageRequest) Scope(db *gorm.DB) *gorm.DB {
	p = p.Normalize()
	return db.Limit(p.PerPage).Offset((p.Page - 1) * p.PerPage)
}

// Page is one page of a list, in the JSON shape every list endpoint uses.
type Page[T any] struct {
	Items   []T   `json:"items"`
	Total   int64 `json:"total"`
	Page    int   `json:"page"`
	PerPage int   `json:"per_page"`
}

// NewPage builds a page; nil items become an empty list.
func NewPage[T any](items []T, total int64, req PageRequest) Page[T] {
	req = req.Normalize()
	if items == nil {
		items = []T{}
	}
	return Page[T]{Items: items, Total: total, Page: req.Page, PerPage: req.PerPage}
}

// Itoa formats an id.
func Itoa(n int64) string { return strconv.FormatInt(n, 10) }
