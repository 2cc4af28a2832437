package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"runtime/pprof"
	"sync"
	"sync/atomic"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Group commit (SQLite). SQLite has one writer, so write transactions run
// one after another however many requests arrive at once. Each commit
// appends every page the transaction dirtied to the WAL, and most of those
// pages (the right-hand leaves of the orders, lines, moves and outbox
// indexes) are the same from one checkout to the next. The committer runs
// the transactions that queued up while the previous commit was working as
// one SQLite transaction, each inside its own savepoint: a transaction that
// fails is rolled back to its savepoint and the others commit; a commit that
// fails fails them all. Callers see the same contract as a transaction of
// their own: Tx returns only after the commit, with fn's error or the
// commit's.

// maxGroup bounds how many transactions share one commit, so that one
// batch cannot hold the writer for long.
const maxGroup = 64

// errTxLost is returned to the members of a group whose shared transaction
// SQLite rolled back on its own (I/O error, disk full): their writes are
// gone, so they must not report success.
var errTxLost = errors.New("store: the shared transaction was rolled back by the database; retry")

// ErrClosed is returned by Tx after Close.
var ErrClosed = errors.New("store: database closed")

type txReq struct {
	repeatable bool     // fn may run again after a rollback: no savepoint
	later      []any    // rows for CreateLater, inserted with the group's
	ids        *idAlloc // the group's primary keys for those rows
	ctx        context.Context
	fn         func(ctx context.Context) error
	err        error
	panicked   bool
	panicVal   any
	done       chan struct{}
}

// GroupStats counts the committer's work since the database was opened.
type GroupStats struct {
	Commits int64 // transactions committed (or attempted)
	Members int64 // Tx calls they carried
	Reruns  int64 // repeatable members run again after another member spoiled their transaction
}

type committer struct {
	writes  atomic.Int64 // statements that may have written, counted by a callback on writer
	commits atomic.Int64
	members atomic.Int64
	reruns  atomic.Int64
	writer  *gorm.DB
	reqs    chan *txReq
	quit    chan struct{}
	exited  chan struct{}
	once    sync.Once
}

func newCommitter(writer *gorm.DB) (*committer, error) {
	c := &committer{writer: writer, reqs: make(chan *txReq), quit: make(chan struct{}), exited: make(chan struct{})}
	count := func(*gorm.DB) { c.writes.Add(1) }
	cb := writer.Callback()
	for _, err := range []error{
		cb.Create().After("*").Register("store:count_writes", count),
		cb.Update().After("*").Register("store:count_writes", count),
		cb.Delete().After("*").Register("store:count_writes", count),
		cb.Raw().After("*").Register("store:count_writes", count), // Exec
	} {
		if err != nil {
			return nil, err
		}
	}
	go c.loop()
	return c, nil
}

// run queues fn and waits for its group's commit. fn runs on the
// committer's goroutine with ctx's values but not its cancellation: an
// interrupted statement would make SQLite roll back the whole shared
// transaction, so a request that is cancelled before its turn is skipped,
// and one whose turn has come finishes (write transactions are short).
func (c *committer) run(ctx context.Context, repeatable bool, fn func(ctx context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &txReq{ctx: ctx, fn: fn, repeatable: repeatable, done: make(chan struct{})}
	select {
	case c.reqs <- r:
	case <-c.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	<-r.done
	if r.panicked {
		panic(r.panicVal)
	}
	return r.err
}

func (c *committer) close() {
	c.once.Do(func() { close(c.quit) })
	<-c.exited
}

func (c *committer) loop() {
	defer close(c.exited)
	// Labelled so that CPU profiles can show the writer's own time
	// (go tool pprof -tagfocus goroutine=committer).
	pprof.SetGoroutineLabels(labelled)
	batch := make([]*txReq, 0, maxGroup)
	for {
		var first *txReq
		select {
		case first = <-c.reqs:
		case <-c.quit:
			return
		}
		batch = append(batch[:0], first)
	drain:
		for len(batch) < maxGroup {
			select {
			case r := <-c.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		c.commit(batch)
		for _, r := range batch {
			close(r.done)
		}
		clear(batch)
	}
}

// labelled carries the committer's profile label (go tool pprof
// -tagfocus goroutine=committer); its INSERTs are labelled by row type too
// (-tagfocus flush=Order).
var labelled = pprof.WithLabels(context.Background(), pprof.Labels("goroutine", "committer"))

// call runs r.fn in tx, turning a panic into r.panicked. With ids (a
// repeatable group), r's CreateLater rows wait for the group's commit and
// take their primary keys from ids.
func call(r *txReq, tx *gorm.DB, ids *idAlloc) (err error) {
	defer func() {
		if v := recover(); v != nil {
			r.panicked, r.panicVal = true, v
			err = fmt.Errorf("store: transaction function panicked: %v", v)
		}
	}()
	ctx := context.WithoutCancel(r.ctx)
	ctx = context.WithValue(ctx, txKey{}, tx.WithContext(ctx))
	r.later, r.ids = r.later[:0], ids
	if ids != nil {
		ctx = context.WithValue(ctx, laterKey{}, r)
	}
	return r.fn(ctx)
}

// idAlloc hands out the primary keys of a group's deferred rows, so that
// callers have their rows' ids at once (an order's id for its lines) while
// the rows themselves wait for the group's multi-row INSERT. The group's
// transaction is the only writer, so the next id of a table is one more
// than the highest it has used (sqlite_sequence for AUTOINCREMENT tables,
// else the highest id in it), read once per table per transaction. An
// immediate INSERT into such a table later in the same group would get an
// id already handed out: the group's INSERT then fails and its members run
// again one by one (correct, but slow), so repeatable members insert into a
// table either always with CreateLater or never.
type idAlloc struct {
	tx   *gorm.DB
	last map[string]int64 // table → the last id handed out
}

func newIDAlloc(tx *gorm.DB) *idAlloc { return &idAlloc{tx: tx, last: map[string]int64{}} }

// assign gives every row of rows (a pointer to a struct or to a slice of
// structs) whose primary key is an unset auto-increment integer the next
// id of its table.
func (a *idAlloc) assign(rows any) error {
	stmt := &gorm.Statement{DB: a.tx}
	if err := stmt.Parse(rows); err != nil {
		return err
	}
	pk := stmt.Schema.PrioritizedPrimaryField
	if pk == nil || !pk.AutoIncrement {
		return nil // a natural key (idempotency keys): nothing to assign
	}
	v := reflect.Indirect(reflect.ValueOf(rows))
	each := func(fn func(reflect.Value) error) error {
		if v.Kind() != reflect.Slice {
			return fn(v)
		}
		for i := range v.Len() {
			if err := fn(reflect.Indirect(v.Index(i))); err != nil {
				return err
			}
		}
		return nil
	}
	ctx := context.Background()
	return each(func(row reflect.Value) error {
		if _, zero := pk.ValueOf(ctx, row); !zero {
			return nil
		}
		last, ok := a.last[stmt.Table]
		if !ok {
			var err error
			if last, err = a.highest(stmt.Table, pk.DBName); err != nil {
				return err
			}
		}
		last++
		a.last[stmt.Table] = last
		return pk.Set(ctx, row, last)
	})
}

// highest returns the highest id table has used.
func (a *idAlloc) highest(table, column string) (int64, error) {
	var seq, top sql.NullInt64
	// sqlite_sequence exists once an AUTOINCREMENT table does; without it
	// (or the table's row in it) the highest id in the table is the mark.
	_ = a.tx.Raw("SELECT seq FROM sqlite_sequence WHERE name = ?", table).Row().Scan(&seq)
	if err := a.tx.Raw("SELECT max(" + a.tx.Statement.Quote(column) + ") FROM " + a.tx.Statement.Quote(table)).Row().Scan(&top); err != nil {
		return 0, fmt.Errorf("store: highest id of %s: %w", table, err)
	}
	return max(seq.Int64, top.Int64), nil
}

type laterKey struct{}

// CreateLater inserts rows (a pointer to a struct or to a slice of
// structs) in ctx's transaction: at once, or, in a repeatable member of a
// group (TxRepeatable on SQLite), together with the group's other rows of
// the same type in one multi-row INSERT just before the commit. Either way
// the rows commit or roll back with the transaction and have their ids
// (auto-increment primary keys) when CreateLater returns; deferred rows do
// not roll back to a savepoint taken inside the member (only with the
// member's failure), and a deferred row that breaks a constraint fails the
// group's INSERT, whose members are then run again one by one (see
// commitRepeatable). Orders, their lines, outbox events, stock moves and
// the like use it: one INSERT per table per commit instead of one per
// request. Rows must not be changed after the call.
func (db *DB) CreateLater(ctx context.Context, rows any) error {
	tx, ok := ctx.Value(txKey{}).(*gorm.DB)
	if !ok {
		return ErrNoTx
	}
	if r, ok := ctx.Value(laterKey{}).(*txReq); ok {
		if err := r.ids.assign(rows); err != nil {
			return err
		}
		r.later = append(r.later, rows)
		return nil
	}
	return tx.Create(rows).Error
}

// flushLater inserts the CreateLater rows of members, one multi-row INSERT
// (in batches) per row type, in the order they were added.
func flushLater(tx *gorm.DB, members []*txReq) error {
	var order []reflect.Type
	byType := map[reflect.Type]reflect.Value{}
	add := func(v reflect.Value) {
		t := v.Type()
		sl, ok := byType[t]
		if !ok {
			order = append(order, t)
			sl = reflect.MakeSlice(reflect.SliceOf(t), 0, 16)
		}
		byType[t] = reflect.Append(sl, v)
	}
	for _, r := range members {
		for _, rows := range r.later {
			v := reflect.Indirect(reflect.ValueOf(rows))
			if v.Kind() == reflect.Slice {
				for i := range v.Len() {
					add(v.Index(i))
				}
			} else {
				add(v)
			}
		}
	}
	for _, t := range order {
		sl := byType[t]
		if sl.Len() == 0 {
			continue
		}
		p := reflect.New(sl.Type())
		p.Elem().Set(sl)
		// OR FAIL: a failing row fails the statement without undoing the
		// rows before it (the whole transaction is rolled back then), so
		// SQLite needs no statement journal for a multi-row INSERT.
		var err error
		pprof.Do(labelled, pprof.Labels("flush", t.Name()), func(context.Context) {
			err = tx.Clauses(clause.Insert{Modifier: "OR FAIL"}).CreateInBatches(p.Interface(), 200).Error
		})
		if err != nil {
			return fmt.Errorf("store: insert %s rows: %w", t.Name(), err)
		}
	}
	return nil
}

// commit runs one group: its repeatable members in one transaction, the
// others in another.
func (c *committer) commit(batch []*txReq) {
	var rep, other []*txReq
	for _, r := range batch {
		switch {
		case r.ctx.Err() != nil:
			r.err = r.ctx.Err() // cancelled while waiting: never started
		case r.repeatable:
			rep = append(rep, r)
		default:
			other = append(other, r)
		}
	}
	if len(rep) > 0 {
		c.commitRepeatable(rep)
	}
	if len(other) > 0 {
		c.commitSavepoints(other)
	}
}

// begin counts a commit of live and begins its transaction, or fails every
// member and returns nil.
func (c *committer) begin(live []*txReq) *gorm.DB {
	c.commits.Add(1)
	c.members.Add(int64(len(live)))
	tx := c.writer.WithContext(context.Background()).Begin()
	if tx.Error != nil {
		for _, r := range live {
			r.err = tx.Error
		}
		return nil
	}
	return tx
}

// commitRepeatable runs members that may run more than once without
// savepoints (they cost SQLite a copy of every page a member touches). A
// member that fails before writing anything is simply left out. One that
// fails after writing spoils the transaction: it is rolled back, the
// member keeps its error, and the others run again, each in a savepoint
// this time, so that a burst of such failures (a sold-out item during a
// sale) costs one rollback per group rather than one per failure.
func (c *committer) commitRepeatable(live []*txReq) {
	tx := c.begin(live)
	if tx == nil {
		return
	}
	ids := newIDAlloc(tx)
	var ok []*txReq
	for _, r := range live {
		before := c.writes.Load()
		if r.err = call(r, tx, ids); r.err == nil {
			ok = append(ok, r)
			continue
		}
		if c.writes.Load() == before && !r.panicked {
			continue // failed before writing: nothing to undo
		}
		tx.Rollback()
		// Run again those that succeeded and those not yet run.
		var again []*txReq
		for _, x := range live {
			if x != r && x.err == nil {
				again = append(again, x)
			}
		}
		if len(again) > 0 {
			c.reruns.Add(int64(len(again)))
			c.members.Add(-int64(len(again)))
			c.commitSavepoints(again)
		}
		return
	}
	if err := flushLater(tx, ok); err != nil {
		// A deferred row broke a constraint (or the database failed): run
		// the members again one by one, so only the one at fault fails.
		tx.Rollback()
		c.reruns.Add(int64(len(ok)))
		c.members.Add(-int64(len(ok)))
		c.commitSavepoints(ok)
		return
	}
	if err := tx.Commit().Error; err != nil {
		for _, r := range ok {
			r.err = err
		}
	}
}

// commitSavepoints runs members in one transaction, each in a savepoint.
func (c *committer) commitSavepoints(live []*txReq) {
	tx := c.begin(live)
	if tx == nil {
		return
	}
	single := len(live) == 1
	var done []*txReq // members whose writes are in the transaction
	for _, r := range live {
		if single {
			if r.err = call(r, tx, nil); r.err != nil {
				tx.Rollback()
				return
			}
			done = append(done, r)
			continue
		}
		if err := tx.Exec("SAVEPOINT gc").Error; err != nil {
			c.abandon(tx, live, err)
			return
		}
		if r.err = call(r, tx, nil); r.err != nil {
			if err := tx.Exec("ROLLBACK TO gc").Error; err != nil {
				// SQLite rolled the whole transaction back (it does on
				// I/O errors and interrupts): the earlier members' writes
				// went with it.
				for _, d := range done {
					d.err = errTxLost
				}
				tx.Rollback()
				c.failRest(live, r, err)
				return
			}
		} else {
			done = append(done, r)
		}
		if err := tx.Exec("RELEASE gc").Error; err != nil {
			c.abandon(tx, live, err)
			return
		}
	}
	if err := tx.Commit().Error; err != nil {
		for _, d := range done {
			d.err = err
		}
	}
}

// abandon rolls back a group whose savepoint bookkeeping failed: nothing
// in it is committed, so every member that had not failed on its own gets
// err.
func (c *committer) abandon(tx *gorm.DB, live []*txReq, err error) {
	tx.Rollback()
	for _, r := range live {
		if r.err == nil {
			r.err = err
		}
	}
}

// failRest marks the members after r, which never ran, with err.
func (c *committer) failRest(live []*txReq, r *txReq, err error) {
	after := false
	for _, x := range live {
		if after && x.err == nil {
			x.err = fmt.Errorf("%w: %v", errTxLost, err)
		}
		if x == r {
			after = true
		}
	}
}
