package imports

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"

	"saasmall/server/apperr"
)

// StripBOM drops a leading UTF-8 byte order mark, as spreadsheets write.
func StripBOM(data []byte) []byte { return bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")) }

// Record is one non-blank row of a CSV read by ReadCSV.
type Record struct {
	Row    int // the record number; the header is row 1
	values []string
	col    map[string]int
}

// Get returns the value of column (one of ReadCSV's columns), trimmed.
func (r Record) Get(column string) string {
	i, ok := r.col[column]
	if !ok {
		return ""
	}
	return strings.TrimSpace(r.values[i])
}

// ReadCSV reads a CSV whose header row names exactly columns, in any order
// and any case (a leading BOM is fine), and returns its non-blank rows. At
// most maxRows non-blank rows are accepted. The file is refused as a whole
// when it is not well-formed or has the wrong header; single values are the
// caller's to check.
// Errors (all invalid): empty_body, invalid_csv_header (error.fields: each
// missing_column, unknown_column — with the Columns — or duplicate_column),
// csv_syntax (Line, Column), csv_field_count (Line, Want), csv_no_rows,
// csv_too_many_rows (Max).
func ReadCSV(data []byte, columns []string, maxRows int) ([]Record, error) {
	data = StripBOM(data)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &apperr.Error{Kind: apperr.KindInvalid, Code: "empty_body"}
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		return nil, csvErr(err, 0)
	}
	col := map[string]int{}
	f := apperr.Fields{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		switch _, dup := col[h]; {
		case dup:
			f.Add(h, "duplicate_column")
		case !contains(columns, h):
			f.Add(h, "unknown_column", "Columns", strings.Join(columns, ", "))
		default:
			col[h] = i
		}
	}
	for _, c := range columns {
		if _, ok := col[c]; !ok {
			f.Add(c, "missing_column")
		}
	}
	if len(f) > 0 {
		return nil, &apperr.Error{Kind: apperr.KindInvalid, Code: "invalid_csv_header", Fields: f}
	}
	r.FieldsPerRecord = len(header)

	var out []Record
	rowNo := 1
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		rowNo++
		if err != nil {
			return nil, csvErr(err, len(header))
		}
		if blank(rec) {
			continue
		}
		if len(out) == maxRows {
			return nil, &apperr.Error{Kind: apperr.KindInvalid, Code: "csv_too_many_rows", Args: map[string]any{"Max": maxRows}}
		}
		out = append(out, Record{Row: rowNo, values: rec, col: col})
	}
	if len(out) == 0 {
		return nil, &apperr.Error{Kind: apperr.KindInvalid, Code: "csv_no_rows"}
	}
	return out, nil
}

func csvErr(err error, want int) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return &apperr.Error{Kind: apperr.KindInvalid, Code: "csv_field_count", Args: map[string]any{"Line": pe.StartLine, "Want": want}, Err: err}
		}
		return &apperr.Error{Kind: apperr.KindInvalid, Code: "csv_syntax", Args: map[string]any{"Line": pe.Line, "Column": pe.Column}, Err: err}
	}
	return &apperr.Error{Kind: apperr.KindInvalid, Code: "csv_syntax", Args: map[string]any{"Line": 1, "Column": 1}, Err: err}
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}
