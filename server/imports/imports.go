// Package imports runs staff CSV imports in the background. Every kind of
// import (products, stock counts, supplier price lists) shares one table,
// one life cycle and one view: the CSV is checked as a whole when it is
// uploaded (a bad header or a malformed file is refused with nothing
// written), stored and queued; the jobs runner then applies it item by
// item, each item in its own transaction together with the import's
// progress, so a crashed or duplicated runner never applies an item twice;
// an item with a problem is skipped and its problems are kept by CSV row
// and column for staff to read. A Kind says what its CSV holds and how one
// item is applied; the package that owns the data implements it.
package imports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/store"
	"saasmall/tenants"
)

// Import states.
const (
	Queued  = "queued"
	Running = "running"
	Done    = "done"
	Failed  = "failed"
)

// Limits and names.
const (
	// JobKind is the jobs-runner kind that processes imports; its payload
	// is a Job.
	JobKind = "imports.run"
	// LegacyJobKind is the kind product imports were queued under before
	// imports had kinds; jobs of it still in the queue run the same way.
	LegacyJobKind = "mall.product_import"
	// MaxRows bounds the rows of one CSV unless a kind says less (the
	// server's body limit, 1 MiB by default, usually comes first).
	MaxRows = 20_000
	// MaxErrors bounds the errors kept per import; counts stay exact.
	MaxErrors = 1000
)

// Import is a CSV import of one kind into the tenant, processed in the
// background.
type Import struct {
	ID         int64      `gorm:"primaryKey"`
	TenantID   int64      `gorm:"not null"`
	Kind       string     `gorm:"size:20;not null;default:'products'"`
	TargetID   int64      `gorm:"not null;default:0"` // the count sheet, the supplier…; 0 for products
	Status     string     `gorm:"size:10;not null"`
	Total      int        `gorm:"not null"` // items in the CSV
	Processed  int        `gorm:"not null;default:0"`
	Imported   int        `gorm:"not null;default:0"`
	Errors     string     `gorm:"type:text;not null;default:'[]'"` // JSON []RowError
	Source     string     `gorm:"type:text;not null;default:''"`   // the CSV; emptied when done
	CreatedBy  int64      `gorm:"not null"`
	CreatedAt  time.Time  `gorm:"not null"`
	FinishedAt *time.Time //
}

// TableName is the imports table.
func (Import) TableName() string { return "imports" }

// RowError is one problem of an import as stored: the CSV row (record
// number, the header is row 1; 0 for the import as a whole) and column
// where possible, the input field it maps to (e.g. skus[1].prices[0].currency,
// or the column) and an error code with its message arguments.
type RowError struct {
	Row    int            `json:"row"`
	Column string         `json:"column,omitempty"`
	Field  string         `json:"field"`
	Code   string         `json:"code"`
	Args   map[string]any `json:"args,omitempty"`
}

// Problem is the RowError of a value: row, column (also the field) and a
// field error code with name/value pairs of message arguments.
func Problem(row int, column, code string, args ...any) RowError {
	e := RowError{Row: row, Column: column, Field: column, Code: code}
	if len(args) > 0 {
		e.Args = map[string]any{}
		for i := 0; i+1 < len(args); i += 2 {
			e.Args[fmt.Sprint(args[i])] = args[i+1]
		}
	}
	return e
}

// Error is one problem of an import as staff see it. Message is filled in
// the caller's language by the web layer.
type Error struct {
	Row     int            `json:"row"`
	Column  string         `json:"column"`
	Field   string         `json:"field"`
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Args    map[string]any `json:"-"`
}

// MessageID is the i18n message of the error: field.<code> for a field,
// error.<code> for an error of a whole item or of the import.
func (e Error) MessageID() string {
	if e.Field == "" {
		return "error." + e.Code
	}
	return "field." + e.Code
}

// View is an import as staff see it.
type View struct {
	ID         int64      `json:"id"`
	Kind       string     `json:"kind"`
	TargetID   int64      `json:"target_id"`
	Status     string     `json:"status"`
	Total      int        `json:"total"`
	Processed  int        `json:"processed"`
	Imported   int        `json:"imported"`
	Failed     int        `json:"failed"`
	Errors     []Error    `json:"errors"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at"`
	// Module is the policy object of the import's kind: reading the
	// import needs its read permission.
	Module string `json:"-"`
}

// A Kind is one kind of import: what its CSV holds and how an item of it
// is applied. Kinds are registered with Service.Register.
type Kind interface {
	// Name identifies the kind in the imports table ("products").
	Name() string
	// Module is the policy object (mall, warehouse) whose write permission
	// starts an import of this kind and whose read permission shows one.
	Module() string
	// Check checks the import's target (the count sheet, the supplier; 0
	// for a kind without one) for the tenant in ctx, when the import starts
	// and again when it runs; an error refuses or ends the import.
	Check(ctx context.Context, target int64) error
	// Parse reads the CSV into items, in order, for the tenant in ctx. A
	// file that is not well-formed, or whose header is wrong, is an error
	// (see ReadCSV); problems of single values go with their item, which
	// then reports them when applied. Parse must give the same number of
	// items for the same data every time.
	Parse(ctx context.Context, target int64, data []byte) ([]Item, error)
}

// An Item is one unit of an import (a product with its SKU rows, one
// counted SKU), applied in its own transaction.
type Item interface {
	// Apply applies the item inside the transaction in ctx (which carries
	// the import's tenant). It returns the problems that keep the item out,
	// by row and column — then whatever it wrote is rolled back and the
	// import goes on — or an error: an application error (not found,
	// conflict…) ends the import as failed with it; any other error (the
	// database) leaves the import to be retried from this item.
	Apply(ctx context.Context) ([]RowError, error)
}

// JobQueue schedules background jobs inside the caller's transaction (the
// jobs runner).
type JobQueue interface {
	Enqueue(ctx context.Context, kind string, payload any, runAt time.Time) error
}

// Tenants finds the tenant of an import when it runs.
type Tenants interface {
	ByIDs(ctx context.Context, ids []int64) ([]tenants.Tenant, error)
}

// Job is the payload of a JobKind job.
type Job struct {
	ImportID int64 `json:"import_id"`
}

// Service records, queues and runs imports.
type Service struct {
	db      *store.DB
	jobs    JobQueue
	tenants Tenants
	now     func() time.Time
	kinds   map[string]Kind
}

// New returns the imports service: jobs runs the imports (register Handle
// for JobKind and LegacyJobKind), ts finds their tenants, now is the clock
// (nil: the system's).
func New(db *store.DB, jobs JobQueue, ts Tenants, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, jobs: jobs, tenants: ts, now: func() time.Time { return now().UTC() }, kinds: map[string]Kind{}}
}

// Register adds a kind of import. It is not safe to call once the service
// is in use.
func (s *Service) Register(k Kind) { s.kinds[k.Name()] = k }

// Start checks a CSV of kind for target (Kind.Check, then Kind.Parse),
// records an import of the tenant in ctx and queues it; the jobs runner
// then applies it item by item (RunImport). Staff with the kind's module
// write permission (the route checks it).
// Errors: the kind's Check errors (not_found, conflict…), empty_body,
// invalid_csv_header (with a field per missing, unknown or duplicate
// column), csv_syntax, csv_field_count, csv_no_rows, csv_too_many_rows,
// no_tenant_in_context, internal (an unknown kind).
func (s *Service) Start(ctx context.Context, kind string, target int64, data []byte) (*View, error) {
	t := tenants.From(ctx)
	if t == nil {
		return nil, tenants.ErrNoTenant
	}
	k, ok := s.kinds[kind]
	if !ok {
		return nil, apperr.Internal(fmt.Errorf("imports: unknown kind %q", kind))
	}
	if err := k.Check(ctx, target); err != nil {
		return nil, err
	}
	data = StripBOM(data)
	items, err := k.Parse(ctx, target, data)
	if err != nil {
		return nil, err
	}
	imp := Import{TenantID: t.ID, Kind: kind, TargetID: target, Status: Queued, Total: len(items), Errors: "[]",
		Source: string(data), CreatedBy: actor.UserID(ctx), CreatedAt: s.now()}
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		if err := s.db.W(ctx).Create(&imp).Error; err != nil {
			return err
		}
		return s.jobs.Enqueue(ctx, JobKind, Job{ImportID: imp.ID}, time.Time{})
	})
	if err != nil {
		return nil, store.Error(err, "import")
	}
	return s.view(&imp), nil
}

// Import returns an import of the tenant in ctx, of any kind, with its
// progress and errors (messages not yet translated). Staff with read
// permission of the import's module (View.Module; the caller checks it).
// Errors: not_found, no_tenant_in_context.
func (s *Service) Import(ctx context.Context, id int64) (*View, error) {
	var imp Import
	if err := s.db.R(ctx).Scopes(tenants.Scope(ctx)).Omit("source").Take(&imp, id).Error; err != nil {
		return nil, store.Error(err, "import")
	}
	return s.view(&imp), nil
}

func (s *Service) view(imp *Import) *View {
	v := &View{ID: imp.ID, Kind: imp.Kind, TargetID: imp.TargetID, Status: imp.Status, Total: imp.Total, Processed: imp.Processed,
		Imported: imp.Imported, Failed: imp.Processed - imp.Imported, Errors: []Error{}, CreatedAt: imp.CreatedAt.UTC(), FinishedAt: imp.FinishedAt}
	if v.FinishedAt != nil {
		f := v.FinishedAt.UTC()
		v.FinishedAt = &f
	}
	if k, ok := s.kinds[imp.Kind]; ok {
		v.Module = k.Module()
	}
	var stored []RowError
	_ = json.Unmarshal([]byte(imp.Errors), &stored)
	for _, e := range stored {
		v.Errors = append(v.Errors, Error{Row: e.Row, Column: e.Column, Field: e.Field, Code: e.Code, Args: e.Args})
	}
	return v
}

// Handle is the jobs runner's handler of JobKind (and LegacyJobKind): it
// runs the import in the payload for up to budget, then queues the rest.
func (s *Service) Handle(budget time.Duration) func(ctx context.Context, payload []byte) error {
	return func(ctx context.Context, payload []byte) error {
		var job Job
		if err := json.Unmarshal(payload, &job); err != nil {
			return err
		}
		more, err := s.RunImport(ctx, job.ImportID, budget)
		if err == nil && more {
			err = s.jobs.Enqueue(ctx, JobKind, job, time.Time{})
		}
		return err
	}
}

var (
	errMoved   = errors.New("imports: import progressed elsewhere")
	errRefused = errors.New("imports: item refused")
)

// RunImport processes the import id (a platform entry point: the tenant
// comes from the import): each item in its own transaction through
// Item.Apply, recording progress in the same transaction, so a job taken
// again after a crash resumes where it stopped and never applies an item
// twice. An item with problems is skipped and its problems are recorded by
// row. It stops after budget and reports more = true, so the caller queues
// the rest (a job's lease is bounded). Other errors (the database) are
// returned for the runner to retry; an import it cannot read, whose target
// is gone, or whose kind is unknown is marked failed.
func (s *Service) RunImport(ctx context.Context, id int64, budget time.Duration) (more bool, err error) {
	var imp Import
	if err := s.db.W(ctx).Take(&imp, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return false, nil // deleted: nothing to do
		}
		return false, err
	}
	if imp.Status == Done || imp.Status == Failed {
		return false, nil
	}
	k, ok := s.kinds[imp.Kind]
	if !ok {
		return false, s.finish(ctx, &imp, Failed, &RowError{Code: "internal"})
	}
	ts, err := s.tenants.ByIDs(ctx, []int64{imp.TenantID})
	if err != nil {
		return false, err
	}
	if len(ts) != 1 {
		return false, s.finish(ctx, &imp, Failed, &RowError{Code: "internal"})
	}
	tctx := tenants.WithTenant(ctx, &ts[0])
	if err := k.Check(tctx, imp.TargetID); err != nil {
		if apperr.KindOf(err) == apperr.KindInternal {
			return false, err
		}
		ae := apperr.As(err)
		return false, s.finish(ctx, &imp, Failed, &RowError{Code: ae.Code, Args: ae.Args})
	}
	items, perr := k.Parse(tctx, imp.TargetID, []byte(imp.Source))
	switch {
	case perr != nil && apperr.KindOf(perr) == apperr.KindInternal:
		return false, perr
	case perr != nil:
		ae := apperr.As(perr)
		return false, s.finish(ctx, &imp, Failed, &RowError{Row: 1, Code: ae.Code, Args: ae.Args})
	case len(items) != imp.Total:
		return false, s.finish(ctx, &imp, Failed, &RowError{Code: "internal"})
	}
	if imp.Status == Queued {
		if err := s.db.W(ctx).Model(&Import{}).Where("id = ? AND status = ?", id, Queued).Update("status", Running).Error; err != nil {
			return false, err
		}
	}
	start := time.Now()
	for i := imp.Processed; i < len(items); i++ {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if i > imp.Processed && time.Since(start) > budget {
			return true, nil // at least one item per run
		}
		var problems []RowError
		err := s.db.Tx(tctx, func(ctx context.Context) error {
			ps, err := items[i].Apply(ctx)
			switch {
			case err != nil:
				return err
			case len(ps) > 0:
				problems = ps
				return errRefused // roll back what the item wrote
			}
			return s.advance(ctx, id, i, true, nil)
		})
		switch {
		case err == nil:
			continue
		case errors.Is(err, errMoved):
			return false, nil // another runner has it
		case errors.Is(err, errRefused):
		case apperr.KindOf(err) == apperr.KindInternal:
			return false, err // the database: retry later from here
		default:
			ae := apperr.As(err)
			return false, s.finish(ctx, &imp, Failed, &RowError{Code: ae.Code, Args: ae.Args})
		}
		err = s.db.Tx(ctx, func(ctx context.Context) error { return s.advance(ctx, id, i, false, problems) })
		switch {
		case errors.Is(err, errMoved):
			return false, nil
		case err != nil:
			return false, err
		}
	}
	return false, s.finish(ctx, &imp, Done, nil)
}

// advance records that item i of import id was processed, inside ctx's
// transaction; it fails with errMoved unless i was the next one.
func (s *Service) advance(ctx context.Context, id int64, i int, imported bool, errs []RowError) error {
	upd := map[string]any{"processed": i + 1}
	if imported {
		upd["imported"] = gorm.Expr("imported + 1")
	}
	if len(errs) > 0 {
		var cur Import
		if err := s.db.W(ctx).Select("errors").Take(&cur, id).Error; err != nil {
			return err
		}
		var all []RowError
		_ = json.Unmarshal([]byte(cur.Errors), &all)
		if room := MaxErrors - len(all); room > 0 {
			all = append(all, errs[:min(room, len(errs))]...)
			b, err := json.Marshal(all)
			if err != nil {
				return err
			}
			upd["errors"] = string(b)
		}
	}
	res := s.db.W(ctx).Model(&Import{}).Where("id = ? AND processed = ?", id, i).Updates(upd)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return errMoved
	}
	return nil
}

// finish ends an import as done or failed (with an error of the whole
// import, added to those recorded) and drops its CSV.
func (s *Service) finish(ctx context.Context, imp *Import, status string, e *RowError) error {
	upd := map[string]any{"status": status, "finished_at": s.now(), "source": ""}
	if e != nil {
		var cur Import
		if err := s.db.W(ctx).Select("errors").Take(&cur, imp.ID).Error; err != nil {
			return err
		}
		var all []RowError
		_ = json.Unmarshal([]byte(cur.Errors), &all)
		b, err := json.Marshal(append(all, *e))
		if err != nil {
			return err
		}
		upd["errors"] = string(b)
	}
	return s.db.W(ctx).Model(&Import{}).Where("id = ?", imp.ID).Updates(upd).Error
}
