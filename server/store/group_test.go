package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"saasmall/server/store"
)

type gcRow struct {
	ID     int64
	Member int64 `gorm:"not null;index"`
	Part   string
}

// TestGroupCommitKeepsEachTransactionWhole drives many concurrent write
// transactions of every kind through the committer (SQLite shares commits
// among them; PostgreSQL runs them one by one) and checks that exactly the
// successful ones left their rows, each once: a member that fails after
// writing, panics, or fails before writing leaves nothing and spoils no
// neighbour; a repeatable member run again does not write twice.
func TestGroupCommitKeepsEachTransactionWhole(t *testing.T) {
	db := migrated(t)
	if err := db.Writer().AutoMigrate(&gcRow{}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	boom := errors.New("boom")
	const n = 400
	want := map[int64]int{} // member → rows it must leave
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range int64(n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			write := func(ctx context.Context, part string) error {
				return db.W(ctx).Create(&gcRow{Member: i, Part: part}).Error
			}
			var err error
			rows := 0
			switch {
			case i%50 == 7: // repeatable, panics after writing
				func() {
					defer func() {
						if v := recover(); v != "kaboom" {
							t.Errorf("member %d: recovered %v, want its panic", i, v)
						}
					}()
					_ = db.TxRepeatable(ctx, func(ctx context.Context) error {
						_ = write(ctx, "a")
						panic("kaboom")
					})
				}()
				return
			case i%5 == 0: // plain, succeeds
				err = db.Tx(ctx, func(ctx context.Context) error {
					if err := write(ctx, "a"); err != nil {
						return err
					}
					return db.Emit(ctx, 1, "gc.plain", map[string]int64{"member": i})
				})
				rows = 1
			case i%5 == 1: // repeatable, succeeds, one row now and one with the commit
				err = db.TxRepeatable(ctx, func(ctx context.Context) error {
					if err := write(ctx, "a"); err != nil {
						return err
					}
					if err := db.CreateLater(ctx, &[]gcRow{{Member: i, Part: "later"}}); err != nil {
						return err
					}
					return db.Emit(ctx, 1, "gc.repeatable", map[string]int64{"member": i})
				})
				rows = 2
			case i%5 == 2: // repeatable, fails after writing
				err = db.TxRepeatable(ctx, func(ctx context.Context) error {
					if err := write(ctx, "a"); err != nil {
						return err
					}
					if err := db.CreateLater(ctx, &gcRow{Member: i, Part: "later"}); err != nil {
						return err
					}
					return boom
				})
			case i%5 == 3: // repeatable, fails before writing
				err = db.TxRepeatable(ctx, func(ctx context.Context) error {
					var k int64
					if err := db.W(ctx).Model(&gcRow{}).Count(&k).Error; err != nil {
						return err
					}
					return boom
				})
			default: // plain, fails after writing
				err = db.Tx(ctx, func(ctx context.Context) error {
					if err := write(ctx, "a"); err != nil {
						return err
					}
					return boom
				})
			}
			if rows > 0 && err != nil {
				t.Errorf("member %d: %v", i, err)
			}
			if rows == 0 && !errors.Is(err, boom) {
				t.Errorf("member %d: %v, want boom", i, err)
			}
			mu.Lock()
			want[i] = rows
			mu.Unlock()
		}()
	}
	wg.Wait()
	var got []struct {
		Member int64
		N      int
	}
	if err := db.Reader().Model(&gcRow{}).Select("member, COUNT(*) AS n").Group("member").Scan(&got).Error; err != nil {
		t.Fatal(err)
	}
	have := map[int64]int{}
	for _, g := range got {
		have[g.Member] = g.N
	}
	for m, w := range want {
		if have[m] != w {
			t.Errorf("member %d left %d rows, want %d", m, have[m], w)
		}
	}
	for m := range have {
		if _, ok := want[m]; !ok {
			t.Errorf("member %d (panicked) left rows", m)
		}
	}
	if got, want := count(t, db), int64(n/5*2); got != want {
		t.Errorf("outbox has %d events, want %d (one per successful member)", got, want)
	}
	st := db.GroupStats()
	t.Logf("group commit: %d transactions in %d commits, %d run again", st.Members, st.Commits, st.Reruns)
	if db.Dialect == store.SQLite && st.Members < int64(n) {
		t.Errorf("stats count %d members, want at least %d", st.Members, n)
	}
}

// TestGroupCommitSkipsCancelled: a transaction whose context is cancelled
// before its turn never runs.
func TestGroupCommitSkipsCancelled(t *testing.T) {
	db := migrated(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := db.TxRepeatable(ctx, func(ctx context.Context) error { ran = true; return nil })
	if !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("cancelled: err %v, ran %v", err, ran)
	}
	if err := db.Tx(context.Background(), func(ctx context.Context) error { return nil }); err != nil {
		t.Fatal(fmt.Errorf("after a cancelled one: %w", err))
	}
}

type gcParent struct {
	ID  int64
	Key string `gorm:"not null;uniqueIndex"`
}

type gcChild struct {
	ID       int64
	ParentID int64 `gorm:"not null;index"`
}

// TestGroupCommitDeferredRowsHaveTheirIDs: CreateLater gives deferred rows
// their ids at once (a parent's id goes into its children before either is
// inserted), the ids are the rows' ids once committed, transactions that
// insert into the same table at once (plain Tx) do not collide with them,
// and a deferred row that breaks a unique constraint fails only its own
// transaction.
func TestGroupCommitDeferredRowsHaveTheirIDs(t *testing.T) {
	db := migrated(t)
	if err := db.Writer().AutoMigrate(&gcParent{}, &gcChild{}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const n = 300
	type result struct {
		id  int64
		err error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			key := fmt.Sprintf("k%d", i)
			if i%10 == 9 {
				key = "dup" // only one of these may commit
			}
			if i%7 == 3 { // a plain transaction inserting at once
				p := gcParent{Key: key}
				err := db.Tx(ctx, func(ctx context.Context) error {
					if err := db.W(ctx).Create(&p).Error; err != nil {
						return err
					}
					return db.W(ctx).Create(&gcChild{ParentID: p.ID}).Error
				})
				results[i] = result{p.ID, err}
				return
			}
			var id int64
			err := db.TxRepeatable(ctx, func(ctx context.Context) error {
				p := &gcParent{Key: key}
				if err := db.CreateLater(ctx, p); err != nil {
					return err
				}
				if p.ID == 0 {
					return errors.New("no id after CreateLater")
				}
				kids := []gcChild{{ParentID: p.ID}, {ParentID: p.ID}}
				if err := db.CreateLater(ctx, &kids); err != nil {
					return err
				}
				id = p.ID
				return nil
			})
			results[i] = result{id, err}
		})
	}
	wg.Wait()
	var parents []gcParent
	if err := db.Reader().Find(&parents).Error; err != nil {
		t.Fatal(err)
	}
	byKey := map[string]int64{}
	for _, p := range parents {
		byKey[p.Key] = p.ID
	}
	dups := 0
	for i, r := range results {
		key := fmt.Sprintf("k%d", i)
		if i%10 == 9 {
			key = "dup"
			if r.err == nil {
				dups++
				if byKey[key] != r.id {
					t.Errorf("member %d committed dup as id %d, the table has %d", i, r.id, byKey[key])
				}
			}
			continue
		}
		if r.err != nil {
			t.Errorf("member %d: %v", i, r.err)
			continue
		}
		if byKey[key] != r.id || r.id == 0 {
			t.Errorf("member %d: told id %d, the table has %d", i, r.id, byKey[key])
		}
	}
	if dups != 1 {
		t.Errorf("%d transactions committed the duplicate key, want 1", dups)
	}
	var orphans, kids int64
	if err := db.Reader().Model(&gcChild{}).Where("parent_id NOT IN (SELECT id FROM gc_parents)").Count(&orphans).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Reader().Model(&gcChild{}).Count(&kids).Error; err != nil {
		t.Fatal(err)
	}
	want := int64(0) // children of the committed transactions: one from a plain one, two from a repeatable one
	for i, r := range results {
		switch {
		case r.err != nil:
		case i%7 == 3:
			want++
		default:
			want += 2
		}
	}
	if orphans != 0 || kids != want {
		t.Errorf("children: %d orphans, %d in all, want %d", orphans, kids, want)
	}
}
